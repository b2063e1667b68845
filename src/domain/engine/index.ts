/** bosun's vocabulary for container engines: the data that crosses the ContainerEngine port. */
export type * from './call.js';
export type * from './container.js';
export type * from './events.js';
export type * from './image.js';
export type * from './output.js';
export type * from './resources.js';
