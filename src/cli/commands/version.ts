/**
 * `foundation version`: prints the package version.
 *
 * @module
 */
import { parseFlags } from '../arguments.js';
import { EXIT } from '../cli-io.js';
import type { Command } from '../command.js';
import { packageInfo } from '../package-info.js';

/** The `version` command. */
export const versionCommand: Command = {
  name: 'version',
  summary: 'Print the version',
  help: 'Usage: foundation version\n\nPrints the package name and version, and the Node.js version.',
  run(args, io) {
    parseFlags('version', args, {});
    const info = packageInfo();
    io.out(`${info.name} ${info.version} (node ${process.version})`);
    return Promise.resolve(EXIT.ok);
  },
};
