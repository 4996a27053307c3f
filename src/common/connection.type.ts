import { type ClassType, Field, Int, ObjectType } from 'type-graphql';
import { type Connection } from './pagination';

@ObjectType({ simpleResolvers: true, description: 'Where a page ends and whether more follows.' })
export class PageInfo {
  @Field({ description: 'True when another page follows this one.' })
  hasNextPage!: boolean;

  @Field(() => String, {
    nullable: true,
    description: 'Cursor of the last edge; pass it as `after` for the next page.',
  })
  endCursor!: string | null;
}

/** Relay-style `XEdge` and `XConnection` types for a node type. */
export function connectionTypes<TNode extends object>(node: ClassType<TNode>, name: string) {
  @ObjectType(`${name}Edge`, { simpleResolvers: true, description: `One ${name} in a page.` })
  class Edge {
    @Field({ description: 'Opaque position of this edge, for `after`.' })
    cursor!: string;

    @Field(() => node, { description: `The ${name}.` })
    node!: TNode;
  }

  @ObjectType(`${name}Connection`, {
    simpleResolvers: true,
    description: `A page of ${name} items, newest first.`,
  })
  class ConnectionType implements Connection<TNode> {
    @Field(() => [Edge], { description: 'The items of this page.' })
    edges!: Edge[];

    @Field(() => PageInfo, { description: 'Pagination state.' })
    pageInfo!: PageInfo;

    /** A function: graphql-js calls it only when the client selects the field. */
    @Field(() => Int, { description: 'How many items match, across all pages.' })
    totalCount!: () => Promise<number>;
  }

  return { Edge, Connection: ConnectionType };
}
