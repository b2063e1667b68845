/**
 * A dockerode client of the engine under test, for tests that look at what bosun made with an
 * independent pair of eyes (raw HostConfig, networks, volumes); bosun's code never sees it.
 */
import Docker from 'dockerode';
import { dockerConnection } from '../../src/adapters/engine-docker/docker-engine.js';

let client: Docker | undefined;

export function rawDocker(host = process.env.BOSUN_TEST_DOCKER_HOST): Docker {
  if (host) return new Docker(dockerConnection(host));
  return (client ??= new Docker(dockerConnection(undefined)));
}
