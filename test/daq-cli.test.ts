/** `spikeloop virtual daq-uno`: prints the serial device on its first line, serves the firmware there, stops on SIGINT. */
import { existsSync } from 'node:fs';
import { expect, it } from 'vitest';
import { DaqBoard } from '../drivers/daq/board.ts';
import { withVirtualDaqCli } from './daq-helpers.ts';

it('spikeloop virtual daq-uno serves the firmware behind the printed port until interrupted', async () => {
  await withVirtualDaqCli([], async ({ link, first, interrupt }) => {
    expect(first).toBe(link);
    const board = await DaqBoard.open({ path: first });
    const hello = await board.negotiate();
    expect(hello).toMatchObject({ protocolVersion: 1, board: 'uno', analogInputs: 6, adcBits: 10 });
    await board.close();
    expect(await interrupt()).toBe(0);
    expect(existsSync(link)).toBe(false);
  });
});
