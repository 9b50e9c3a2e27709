import { describe, expect, it } from 'vitest';
import { describeProtocol } from './describe.ts';

describe('describeProtocol', () => {
  it('lists parameters in one order whatever the stored document\'s key order', () => {
    const fromForm = { kind: 'square', quantity: 'current', durationS: 1, amplitude: 0.001, offset: 0, frequencyHz: 1000, duty: 0.5 };
    const fromApi = { kind: 'square', durationS: 1, frequencyHz: 1000, quantity: 'current', amplitude: 0.001, offset: 0, duty: 0.5 };
    expect(describeProtocol(fromForm)).toBe('amplitude 1 mA, offset 0 A, frequency 1 kHz, duty 0.5');
    expect(describeProtocol(fromApi)).toBe(describeProtocol(fromForm));
    // parameters outside the usual list follow, as stored
    expect(describeProtocol({ kind: 'stdp', quantity: 'voltage', durationS: 1, pairs: 5, dtS: 0.01, amplitude: 1 })).toBe('amplitude 1 V, pairs 5, dt 0.01');
  });
});
