// The one database harness (MONGODB_URI, or a fresh embedded server) lives in the embedded
// server's package, whose own conformance suite shares it.
export {
  describeEmbeddedOnly,
  startTestDatabase,
  TEST_TTL_MONITOR_INTERVAL_MS,
  type TestDatabase,
} from '@graphql-auth-api/embedded-mongo';
