/**
 * What the Lambda bundles get for `mnemonist/lru-cache` (see infra/esbuild-plugins.cjs): the
 * DynamoDB client's endpoint-discovery cache is its only user, and the service never turns endpoint
 * discovery on. The same least-recently-used behaviour on a Map, with the methods that cache calls.
 */
export default class MapLruCache {
  constructor(capacity) {
    this.capacity = capacity;
    this.items = new Map();
  }

  get(key) {
    if (!this.items.has(key)) return undefined;
    const value = this.items.get(key);
    this.items.delete(key);
    this.items.set(key, value);
    return value;
  }

  peek(key) {
    return this.items.get(key);
  }

  has(key) {
    return this.items.has(key);
  }

  set(key, value) {
    this.items.delete(key);
    this.items.set(key, value);
    if (this.items.size > this.capacity) this.items.delete(this.items.keys().next().value);
    return this;
  }

  clear() {
    this.items.clear();
  }
}
