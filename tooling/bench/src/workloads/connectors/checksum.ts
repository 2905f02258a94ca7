// What a connector workload's variants must agree on: the count of what reached the server and the sum
// of its CRC-32s, independent of order (partitions, consumers and retries reorder).
import { crc32 } from "node:zlib";

export class Checksum {
  count = 0;
  sum = 0;

  add(value: Buffer | null): void {
    this.count++;
    if (value !== null) this.sum = (this.sum + crc32(value)) % Number.MAX_SAFE_INTEGER;
  }

  toString(): string {
    return `${this.count}/${this.sum}`;
  }
}
