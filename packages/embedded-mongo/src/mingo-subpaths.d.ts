// mingo publishes its entry points through package.json "exports", which the project's
// moduleResolution (node10) does not read; these declarations point TypeScript at the
// shipped typings while Node resolves the same specifiers at run time through "exports".
declare module 'mingo/query' {
  export * from 'mingo/types/query';
}
declare module 'mingo/aggregator' {
  export * from 'mingo/types/aggregator';
}
declare module 'mingo/core' {
  export * from 'mingo/types/core';
}
declare module 'mingo/lazy' {
  export * from 'mingo/types/lazy';
}
declare module 'mingo/updater' {
  export * from 'mingo/types/updater';
}
declare module 'mingo/util' {
  export * from 'mingo/types/util';
}
declare module 'mingo/types' {
  export * from 'mingo/types/types';
}
declare module 'mingo/operators/query' {
  export * from 'mingo/types/operators/query';
}
declare module 'mingo/operators/pipeline' {
  export * from 'mingo/types/operators/pipeline';
}
declare module 'mingo/operators/projection' {
  export * from 'mingo/types/operators/projection';
}
declare module 'mingo/operators/expression' {
  export * from 'mingo/types/operators/expression';
}
declare module 'mingo/operators/accumulator' {
  export * from 'mingo/types/operators/accumulator';
}
declare module 'mingo/operators/window' {
  export * from 'mingo/types/operators/window';
}
