import { crashSuite } from './crash-suite.js';

const runs = Number(process.env.BOSUN_CRASH_RUNS ?? 20);
crashSuite(runs / 2 + 1, runs);
