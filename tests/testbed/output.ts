// Keeps the last N bytes of a stream: enough to explain a failure, bounded for chatty processes.
export class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  total = 0;

  constructor(private readonly limit = 64 * 1024) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    this.total += chunk.length;
    while (this.size > this.limit && this.chunks.length > 1) this.size -= this.chunks.shift()!.length;
    if (this.size > this.limit && this.chunks[0]) {
      const only = this.chunks[0];
      this.chunks[0] = only.subarray(only.length - this.limit);
      this.size = this.limit;
    }
  }

  text(): string {
    const s = Buffer.concat(this.chunks).toString('utf8');
    return this.total > this.size ? `[…${this.total - this.size} bytes cut…]${s}` : s;
  }
}
