import { crashSuite } from './crash-suite.js';

crashSuite(1, Number(process.env.BOSUN_CRASH_RUNS ?? 20) / 2);
