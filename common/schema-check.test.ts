import { describe, expect, it } from 'vitest';
import { Type } from 'typebox';
import { fillDefaults, firstProblem } from './schema-check.ts';

const S = Type.Object(
  {
    kind: Type.Literal('square'),
    duty: Type.Number({ exclusiveMaximum: 1, default: 0.5 }),
    shape: Type.Union([Type.Literal('rect'), Type.Literal('exp-tail')], { default: 'rect' }),
    steps: Type.Integer({ minimum: 1 }),
    levels: Type.Optional(Type.Array(Type.Number({ maximum: 3 }))),
  },
  { additionalProperties: false },
);
const check = (v: object) => firstProblem(S, fillDefaults(S, structuredClone({ kind: 'square', steps: 2, ...v })));

describe('firstProblem', () => {
  it('accepts a conforming document with its defaults filled in', () => {
    expect(fillDefaults(S, { kind: 'square', steps: 1 })).toEqual({ kind: 'square', steps: 1, duty: 0.5, shape: 'rect' });
    expect(check({})).toBeUndefined();
  });
  it('names the field and the rule it breaks', () => {
    expect(check({ duty: 2 })).toEqual({ path: '/duty', message: 'must be < 1' });
    expect(check({ levels: [1, 5] })).toEqual({ path: '/levels/1', message: 'must be <= 3' });
    expect(check({ steps: 1.5 })).toEqual({ path: '/steps', message: 'must be integer' });
  });
  it('names an unknown field, a missing one, and lists the allowed literals', () => {
    expect(check({ dutty: 0.2 })).toEqual({ path: '/dutty', message: 'is not a field of this schema' });
    expect(firstProblem(S, { kind: 'square', duty: 0.5, shape: 'rect' })).toEqual({ path: '/steps', message: 'is required' });
    expect(check({ shape: 'round' })).toEqual({ path: '/shape', message: 'must be one of "rect", "exp-tail"' });
  });
});
