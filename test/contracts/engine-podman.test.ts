/**
 * The engine contract against Podman's Docker-compatible API (podman system service, started
 * by scripts/ensure-podman.sh on its own socket), through the same Docker adapter.
 */
import { engineContract } from './engine.contract.js';
import { podmanEngine } from '../helpers/engines.js';

engineContract('podman', () => podmanEngine(), { inPlaceUpdate: false });
