/** Images: what bosun reads of one, and how it asks for a build or a pull. */
import type { CallOptions } from './call.js';

export interface ImageDetails {
  id: string;
  tags: string[];
  labels: Record<string, string>;
  created: string;
  /** The image's default entrypoint and command (what a run without them executes). */
  entrypoint?: string[];
  cmd?: string[];
}

export interface BuildRequest extends CallOptions {
  contextDir: string;
  dockerfile?: string;
  tag: string;
  buildArgs?: Record<string, string>;
  labels?: Record<string, string>;
}

export interface BuildResult {
  imageId: string;
  log: string;
}

export interface PullRequest extends CallOptions {
  ref: string;
}

