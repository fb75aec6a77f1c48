/**
 * Node.js flags that every launcher of the supervisor passes before its main module:
 * the stack's startWorkerProcess, `npm start` in worker/ and the shebang of main.ts.
 *
 * `--max-semi-space-size` caps each of the two semi-spaces of V8's young generation, in
 * MiB. By default Node.js 20 on 64-bit lets V8 grow them from 0.5 MiB to 16 MiB each
 * once enough objects survive scavenges, and the pages of a grown young generation stay
 * resident. The supervisor allocates in bursts during each swap, so its resident memory
 * rose by about 25 MiB over the first 25 swaps of the memory-after-swaps workload
 * (Node.js 20.20) and stayed there. Capped at 1 MiB, V8 scavenges more often, and each
 * scavenge has less to copy. Generation processes are started without this flag.
 */
export const supervisorNodeFlags: readonly string[] = Object.freeze(['--max-semi-space-size=1']);
