// The entry of a data-parallel replica thread (started by trainDataParallel).
import { parentPort, workerData } from 'node:worker_threads';
import { type ReplicaJob, runReplica } from './data-parallel.js';

if (parentPort) await runReplica(workerData as ReplicaJob, parentPort);
