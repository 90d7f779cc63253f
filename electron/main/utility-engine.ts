/** EngineHost's spawn function for the desktop app: the engine as an Electron utilityProcess. */
import type { EngineProcess } from '../broker/engine-host.ts';
import { engineEnv } from '../broker/fork.ts';
import type { EngineConfig } from '../engine/protocol.ts';
import type { ElectronMainLike } from './electron-types.ts';

export function utilityEngineSpawner(electron: Pick<ElectronMainLike, 'utilityProcess'>, entry: string, config: EngineConfig): () => EngineProcess {
  return () => {
    const child = electron.utilityProcess.fork(entry, [JSON.stringify(config)], {
      serviceName: 'codi-engine',
      // The utility process is not sandboxed: hand it a scrubbed environment.
      env: engineEnv(),
      stdio: 'inherit',
    });
    return {
      get pid() {
        return child.pid;
      },
      send: (m) => child.postMessage(m),
      onMessage: (l) => child.on('message', l),
      onExit: (l) => child.on('exit', (code) => l(code, null)),
      kill: () => {
        child.kill();
      },
    };
  };
}
