import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module of the build, without type declarations.
import MapLruCache from '../../infra/map-lru-cache.mjs';

interface Cache {
  get(key: string): unknown;
  peek(key: string): unknown;
  has(key: string): boolean;
  set(key: string, value: unknown): Cache;
  clear(): void;
}

describe('the Lambda bundles’ stand-in for mnemonist/lru-cache', () => {
  it('forgets the least recently used entry past its capacity, a read counting as a use', () => {
    const cache = new MapLruCache(2) as Cache;
    cache.set('a', 1).set('b', 2);
    expect(cache.peek('a')).toBe(1);
    cache.set('c', 3);
    // A peek is no use: "a" was the least recently used, so it goes.
    expect([cache.has('a'), cache.has('b'), cache.has('c')]).toEqual([false, true, true]);
    expect(cache.get('b')).toBe(2);
    cache.set('d', 4);
    // "b" was read after "c" was set, so "c" goes.
    expect([cache.has('b'), cache.has('c'), cache.has('d')]).toEqual([true, false, true]);
    cache.clear();
    expect(cache.get('a')).toBeUndefined();
  });
});
