import { type Context } from '../context';

/**
 * What a subscription's resolvers receive: the HTTP context without the Express request and
 * response, which a socket does not have (only subscriptions are served over it).
 */
export type OperationContext = Omit<Context, 'req' | 'res'>;
