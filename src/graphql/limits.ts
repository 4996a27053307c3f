import { type ApolloServerPlugin } from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import {
  type ASTVisitor,
  type DocumentNode,
  GraphQLError,
  type GraphQLSchema,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
  getVariableValues,
} from 'graphql';
import { type ComplexityEstimator, getComplexity, simpleEstimator } from 'graphql-query-complexity';
import { type Config } from '../config';
import { CREDENTIAL_OPERATIONS } from '../auth/credential-operations';
import { ErrorCode } from '../common/errors';
import { DEFAULT_PAGE_SIZE } from '../common/pagination';
import { PAGE_SIZE_MAX } from '../common/validation';

function countCredentialFields(
  selectionSet: SelectionSetNode,
  context: ValidationContext,
  seenFragments: Set<string>,
): number {
  let count = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      if (CREDENTIAL_OPERATIONS.has(selection.name.value)) count += 1;
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      count += countCredentialFields(selection.selectionSet, context, seenFragments);
    } else if (!seenFragments.has(selection.name.value)) {
      seenFragments.add(selection.name.value);
      const fragment = context.getFragment(selection.name.value);
      if (fragment) count += countCredentialFields(fragment.selectionSet, context, seenFragments);
    }
  }
  return count;
}

export const oneCredentialFieldPerOperation: ValidationRule = (context): ASTVisitor => ({
  OperationDefinition(node) {
    if (node.operation !== 'mutation') return;
    if (countCredentialFields(node.selectionSet, context, new Set()) > 1) {
      context.reportError(
        new GraphQLError(`At most one of ${[...CREDENTIAL_OPERATIONS].join(', ')} per operation`, {
          nodes: [node],
        }),
      );
    }
  },
});

/**
 * A list field costs its page size times what each item costs. Counted as served: an omitted
 * or null `first` is the default page, and sizes are clamped as `pageRequest` clamps them.
 */
const paginationEstimator: ComplexityEstimator = ({ field, args, childComplexity }) => {
  if (!field.args.some((arg) => arg.name === 'first')) return undefined;
  const requested = typeof args.first === 'number' ? args.first : DEFAULT_PAGE_SIZE;
  const pageSize = Math.min(PAGE_SIZE_MAX, Math.max(1, requested));
  return 1 + pageSize * childComplexity;
};

const tooComplex = (message: string) =>
  new GraphQLError(message, {
    extensions: { code: ErrorCode.GRAPHQL_VALIDATION_FAILED, http: { status: 400 } },
  });

/** The operation a cost is measured for. */
export interface CostedOperation {
  document: DocumentNode;
  operation: OperationDefinitionNode | undefined;
  operationName: string | null | undefined;
  variables: Record<string, unknown> | null | undefined;
}

/**
 * Refuses an operation whose estimated cost exceeds the limit, before any resolver runs.
 * graphql-armor's own cost rule ignores page sizes, so `users(first: 100) { todos(first: 100) }`
 * would look cheap to it; graphql-query-complexity multiplies through them. One check for
 * HTTP (an Apollo plugin) and for subscriptions over WebSocket.
 */
function costLimit(schema: GraphQLSchema, maxCost: number) {
  const estimators = [paginationEstimator, simpleEstimator({ defaultComplexity: 1 })];
  // Apollo hands the same parsed document to every request with the same query text, so the
  // cost of (document, operation, variables) is computed once: clients repeat their queries.
  const known = new WeakMap<DocumentNode, Map<string, number>>();

  const measure = ({
    document,
    operation,
    operationName,
    variables,
  }: CostedOperation): number | undefined => {
    try {
      return getComplexity({
        schema,
        query: document,
        operationName: operationName ?? undefined,
        variables: variables ?? {},
        estimators,
      });
    } catch {
      // Variables that do not fit their types: execution refuses them before any resolver
      // runs, with graphql-js's own 400 BAD_USER_INPUT. Anything else (a document too large
      // to measure, say) is refused here: unmeasured means unbounded.
      const definitions = operation?.variableDefinitions ?? [];
      if (getVariableValues(schema, definitions, variables ?? {}).errors) return undefined;
      throw tooComplex('Query is too complex to measure');
    }
  };

  const check = (op: CostedOperation): void => {
    const key = `${op.operationName ?? ''} ${JSON.stringify(op.variables ?? {})}`;
    let costs = known.get(op.document);
    let cost = costs?.get(key);
    if (cost === undefined) {
      cost = measure(op);
      if (cost === undefined) return;
      if (key.length <= 1024) {
        if (!costs) known.set(op.document, (costs = new Map()));
        if (costs.size >= 256) costs.clear();
        costs.set(key, cost);
      }
    }
    if (cost > maxCost) throw tooComplex(`Query cost ${cost} exceeds the limit of ${maxCost}`);
  };

  const plugin: ApolloServerPlugin = {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document, operation }) {
          check({
            document,
            operation,
            operationName: request.operationName,
            variables: request.variables,
          });
        },
      };
    },
  };
  return { check, plugin };
}

/** Query limits: depth, aliases and directives (graphql-armor), cost, and one credential field. */
export function queryLimits(schema: GraphQLSchema, limits: Config['graphql']) {
  const armor = new ApolloArmor({
    maxDepth: { n: limits.maxDepth },
    maxAliases: { n: limits.maxAliases },
    maxDirectives: { n: limits.maxDirectives },
    // Handled by graphql-js's parser (parseOptions.maxTokens), which answers 400 rather than 500.
    maxTokens: { enabled: false },
    // Replaced by the page-size-aware cost plugin above.
    costLimit: { enabled: false },
    // Apollo's hideSchemaDetailsFromClientErrors does this in production.
    blockFieldSuggestion: { enabled: false },
  }).protect();
  const cost = costLimit(schema, limits.maxCost);
  return {
    validationRules: [...armor.validationRules, oneCredentialFieldPerOperation],
    plugins: [...armor.plugins, cost.plugin],
    /** Throws GRAPHQL_VALIDATION_FAILED for an operation over GRAPHQL_MAX_COST. */
    checkCost: cost.check,
  };
}
