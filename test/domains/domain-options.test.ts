// Per-domain options (src/machine/domain-options.ts): parsing and merging of `--domain` values.
import { describe, expect, it } from 'vitest';
import { collectDomainOptions, consolePrefix, parseDomainOption } from '../../src/machine/domain-options.ts';

describe('parseDomainOption', () => {
  it('takes every key', () => {
    expect(parseDomainOption('d2,memory=32,name=right,gic=3,dtb=b.dtb,prefix=R: ')).toEqual({
      ok: true,
      value: { domid: 2, overrides: { memoryMiB: 32, name: 'right', gic: 3, dtb: 'b.dtb', consolePrefix: 'R: ' } },
    });
    expect(parseDomainOption('d0')).toEqual({ ok: true, value: { domid: 0, overrides: {} } });
    expect(parseDomainOption('d1,prefix=')).toEqual({ ok: true, value: { domid: 1, overrides: { consolePrefix: '' } } });
    expect(parseDomainOption('d1,enhanced=yes')).toEqual({ ok: true, value: { domid: 1, overrides: { enhanced: true } } });
    expect(parseDomainOption('d1,enhanced=no')).toEqual({ ok: true, value: { domid: 1, overrides: { enhanced: false } } });
  });

  it.each([
    ['2,memory=32', /'2' is not a domain/],
    ['dx', /'dx' is not a domain/],
    ['d99999', /'d99999' is not a domain/],
    ['d1,memory', /'memory' is not key=value/],
    ['d1,memory=0', /memory takes a whole number of MiB from 1 to 3072, not '0'/],
    ['d1,memory=1.5', /not '1.5'/],
    ['d1,gic=4', /gic takes 2 or 3, not '4'/],
    ['d1,name=', /name is empty/],
    ['d1,colour=red', /unknown key 'colour'/],
    ['d1,enhanced=1', /enhanced takes yes or no, not '1'/],
  ])('%s is refused', (text, error) => {
    const r = parseDomainOption(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(error);
  });
});

describe('collectDomainOptions', () => {
  it('merges per domain, later keys winning', () => {
    const r = collectDomainOptions(['d1,memory=16,name=a', 'd2,gic=3', 'd1,memory=32'], [1, 2]);
    expect(r.ok && Object.fromEntries(r.value)).toEqual({ 1: { memoryMiB: 32, name: 'a' }, 2: { gic: 3 } });
  });

  it('refuses a domain the run does not have', () => {
    expect(collectDomainOptions(['d0,name=x'], [1, 2])).toEqual({ ok: false, error: '--domain d0: no such domain in this run (domains: d1, d2)' });
    expect(collectDomainOptions(['d3'], [0, 1, 2]).ok).toBe(false);
  });

  it('console prefix defaults to dN:', () => {
    expect(consolePrefix(2, undefined)).toBe('d2: ');
    expect(consolePrefix(2, { consolePrefix: 'right> ' })).toBe('right> ');
  });
});
