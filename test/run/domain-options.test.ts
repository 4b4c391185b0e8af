// Per-domain options (--domain dN,...): each domain's board, RAM, name and console prefix.
import { describe, expect, it } from 'vitest';
import { runImages } from '../../src/machine/run.ts';
import { TraceBus } from '../../src/trace/bus.ts';
import type { TraceEvent } from '../../src/trace/events.ts';
import { golden, image } from '../helpers/firmware.ts';

describe('--domain', () => {
  it('gives one domain its own name and console prefix; the others keep theirs', async () => {
    const starts: TraceEvent[] = [];
    const trace = new TraceBus();
    trace.attach((e) => e.kind === 'domain_start' && starts.push(e));
    const r = await runImages({
      images: [image('xenvm-gicv2', 'hello'), image('xenvm-gicv3', 'hello')],
      domainOptions: ['d2,prefix=R: ,name=right'],
      trace,
    });
    expect(r.exitCode).toBe(0);
    expect(r.lines.filter((l) => l.startsWith('d1: '))).toEqual(golden('hello.gicv2.txt'));
    expect(r.lines.filter((l) => l.startsWith('R: ')).map((l) => l.replace('R: ', 'd1: '))).toEqual(golden('hello.gicv3.txt'));
    expect(starts.map((e) => e.kind === 'domain_start' && e.name)).toEqual(['hello.img', 'right']);
  });

  it('sizes one domain\'s RAM, with the error naming that domain when it is too small', async () => {
    const ok = await runImages({ images: [image('xenvm-gicv2', 'hello'), image('xenvm-gicv2', 'hello')], domainOptions: ['d2,memory=16'] });
    expect(ok.exitCode).toBe(0);
    const small = await runImages({ images: [image('xenvm-gicv2', 'hello'), image('xenvm-gicv2', 'hello')], domainOptions: ['d2,memory=1'] });
    expect(small.exitCode).toBe(2);
    expect(small.message).toMatch(/^d2 \(.*hello\.img\): not enough guest RAM/);
  });

  it('checks one domain\'s GIC against its devicetree', async () => {
    const r = await runImages({ images: [image('xenvm-gicv2', 'hello'), image('xenvm-gicv3', 'hello')], domainOptions: ['d2,gic=2'] });
    expect(r.exitCode).toBe(2);
    expect(r.message).toMatch(/^d2: --gic 2 asked, but .*xenvm-gicv3\/board\.dtb describes a GICv3/);
  });

  it('rejects options for a domain that does not exist', async () => {
    const r = await runImages({ images: [image('xenvm-gicv2', 'hello')], domainOptions: ['d5,name=x'] });
    expect(r.exitCode).toBe(2);
    expect(r.message).toContain('d5');
  });
});
