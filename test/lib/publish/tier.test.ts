import { PeerSetTooLargeError } from '../../../lib/errors.js';
import { tierFor } from '../../../lib/publish/index.js';

describe('tierFor', () => {
  it('uses Intelligent-Tiering up to the Standard limit of 4096 characters', () => {
    expect(tierFor('x'.repeat(4096))).toBe('Intelligent-Tiering');
  });
  it('needs Advanced from 4097 to 8192 characters', () => {
    expect(tierFor('x'.repeat(4097))).toBe('Advanced');
    expect(tierFor('x'.repeat(8192))).toBe('Advanced');
  });
  it('refuses a value over 8192 characters with an error naming the limit', () => {
    expect(() => tierFor('x'.repeat(8193))).toThrow(PeerSetTooLargeError);
    expect(() => tierFor('x'.repeat(8193))).toThrow(/8193 characters, over the SSM Advanced tier limit of 8192/);
  });
});
