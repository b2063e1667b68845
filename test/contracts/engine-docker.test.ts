/** The engine contract against the real Docker daemon (DOCKER_HOST or the local socket). */
import { DockerEngine } from '../../src/adapters/engine-docker/docker-engine.js';
import { engineContract } from './engine.contract.js';

engineContract('docker', () => new DockerEngine());
