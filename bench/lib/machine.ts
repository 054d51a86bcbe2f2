/** What a benchmark ran on, so its numbers can be compared with another machine's. */
import os from 'node:os';
import { round } from './stats.ts';

export interface MachineInfo {
  /** Cores this process may use (os.availableParallelism). */
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  platform: string;
  arch: string;
  /** 1-minute load average when the run started: other work on a shared machine skews timings. */
  loadAverage1m: number;
}

export function machineInfo(): MachineInfo {
  const models = [...new Set(os.cpus().map((cpu) => cpu.model.trim()))];
  return {
    cpus: os.availableParallelism(),
    cpuModel: models.join(' + ') || 'unknown',
    memoryGiB: round(os.totalmem() / 2 ** 30, 1),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    arch: os.arch(),
    loadAverage1m: round(os.loadavg()[0] ?? 0, 2),
  };
}
