import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_BROKER_URL } from '../../../src/adapters/transport-factory.js';
import { brokerUrlOf } from '../../../src/app/env-defaults.js';
import { logLevelOf } from '../../../src/util/log.js';

const saved = { url: process.env.BOSUN_BROKER_URL, old: process.env.BOSUN_BROKER, level: process.env.BOSUN_LOG_LEVEL };
afterEach(() => {
  for (const [k, v] of [['BOSUN_BROKER_URL', saved.url], ['BOSUN_BROKER', saved.old], ['BOSUN_LOG_LEVEL', saved.level]] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

test('broker: the flag, else BOSUN_BROKER_URL, else BOSUN_BROKER, else the local RabbitMQ', () => {
  delete process.env.BOSUN_BROKER_URL;
  delete process.env.BOSUN_BROKER;
  assert.equal(brokerUrlOf(undefined), DEFAULT_BROKER_URL);
  process.env.BOSUN_BROKER = 'redis://old:6379';
  assert.equal(brokerUrlOf(undefined), 'redis://old:6379');
  process.env.BOSUN_BROKER_URL = 'amqp://new:5672';
  assert.equal(brokerUrlOf(undefined), 'amqp://new:5672');
  assert.equal(brokerUrlOf('amqp://flag:5672'), 'amqp://flag:5672');
  // Empty is unset (a compose file's blank ${VAR}): the next one counts.
  process.env.BOSUN_BROKER_URL = '';
  assert.equal(brokerUrlOf(undefined), 'redis://old:6379');
});

test('log level: the flag, else BOSUN_LOG_LEVEL (empty is unset), else info; an unknown one is refused by name', () => {
  delete process.env.BOSUN_LOG_LEVEL;
  assert.equal(logLevelOf(undefined), 'info');
  process.env.BOSUN_LOG_LEVEL = 'warn';
  assert.equal(logLevelOf(undefined), 'warn');
  assert.equal(logLevelOf('debug'), 'debug');
  process.env.BOSUN_LOG_LEVEL = '';
  assert.equal(logLevelOf(undefined), 'info');
  process.env.BOSUN_LOG_LEVEL = 'verbose';
  assert.throws(() => logLevelOf(undefined), /BOSUN_LOG_LEVEL: "verbose" is not a log level \(expected one of trace, debug, info/);
  assert.throws(() => logLevelOf('loud'), /--log-level: "loud" is not a log level/);
});
