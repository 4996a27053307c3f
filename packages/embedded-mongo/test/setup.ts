// Conformance tests start servers and may wait on a real MongoDB's TTL monitor.
jest.setTimeout(30_000);
