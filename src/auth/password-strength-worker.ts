import { parentPort } from 'node:worker_threads';
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import * as english from '@zxcvbn-ts/language-en';

/**
 * The zxcvbn estimator in a worker thread of its own (started by `password-policy.ts`): its
 * dictionaries take ~25 MB of heap and a check ~20 ms of CPU, neither of which belongs on the
 * thread that answers requests.
 */

export interface StrengthRequest {
  id: number;
  password: string;
  /** Words the owner is known by (a password built from them is weak). */
  words: string[];
}

export type StrengthReply =
  | { id: number; score: number; warning: string | null; suggestions: string[] }
  | { id: number; error: string };

const estimator = new ZxcvbnFactory({
  translations: english.translations,
  graphs: common.adjacencyGraphs,
  dictionary: { ...common.dictionary, ...english.dictionary },
  // The l33t matcher's cost grows with the number of substitutable characters (a long
  // password of digits took over 100 ms); 10 variants find the usual substitutions.
  l33tMaxSubstitutions: 10,
  // A password is judged on its first 64 characters: more of them add nothing a guesser
  // would try first, and the matchers' cost grows with the length.
  maxLength: 64,
});

parentPort!.on('message', ({ id, password, words }: StrengthRequest) => {
  let reply: StrengthReply;
  try {
    const { score, feedback } = estimator.check(password, words);
    reply = { id, score, warning: feedback.warning, suggestions: feedback.suggestions };
  } catch (error) {
    reply = { id, error: error instanceof Error ? error.message : String(error) };
  }
  parentPort!.postMessage(reply);
});
parentPort!.postMessage('ready');
