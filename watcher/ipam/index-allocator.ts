// One owner per index over [start, end): the bookkeeping under node subnets and pod addresses. It
// reports conflicts and exhaustion as values, so each caller words its own errors (tests pin them).

/** What stops `reserve`: the index is someone else's, or the owner already holds another index. */
export type IndexConflict = { kind: 'taken'; holder: string } | { kind: 'holds'; index: bigint };

export class IndexAllocator {
  private readonly byIndex = new Map<bigint, string>();
  private readonly byOwner = new Map<string, bigint>();
  private cursor: bigint;

  /** `skip` marks indexes inside the range that are never handed out (a Subnet's excludeIps and gateway). */
  constructor(readonly start: bigint, readonly end: bigint, private readonly skip?: (i: bigint) => boolean) {
    if (end < start) throw new RangeError(`index range [${start}, ${end}) is inverted`);
    this.cursor = start;
  }

  /** How many indexes the range has. */
  get span(): bigint {
    return this.end - this.start;
  }

  get allocated(): number {
    return this.byIndex.size;
  }

  indexOf(owner: string): bigint | undefined {
    return this.byOwner.get(owner);
  }

  holder(index: bigint): string | undefined {
    return this.byIndex.get(index);
  }

  /** Claims `index` for `owner` (idempotent); on a conflict claims nothing and says what is in the way. */
  reserve(index: bigint, owner: string): IndexConflict | undefined {
    if (index < this.start || index >= this.end) throw new RangeError(`index ${index} is outside [${this.start}, ${this.end})`);
    const holder = this.byIndex.get(index);
    if (holder !== undefined && holder !== owner) return { kind: 'taken', holder };
    const mine = this.byOwner.get(owner);
    if (mine !== undefined && mine !== index) return { kind: 'holds', index: mine };
    this.claim(index, owner);
    return undefined;
  }

  /**
   * The owner's index, else the next free one after the last handed out (round robin, so a freed
   * index rests a while before reuse); undefined when every index is taken.
   */
  allocate(owner: string): bigint | undefined {
    const have = this.byOwner.get(owner);
    if (have !== undefined) return have;
    const span = this.span;
    for (let k = 0n; k < span; k++) {
      const i = this.start + ((this.cursor - this.start + k) % span);
      if (!this.byIndex.has(i) && !this.skip?.(i)) {
        this.claim(i, owner);
        this.cursor = i + 1n >= this.end ? this.start : i + 1n;
        return i;
      }
    }
    return undefined;
  }

  /** Frees the owner's index; a no-op if it holds none. */
  release(owner: string): void {
    const i = this.byOwner.get(owner);
    if (i === undefined) return;
    this.byOwner.delete(owner);
    this.byIndex.delete(i);
  }

  /** (owner, index) pairs in the order they were claimed. */
  entries(): Array<[string, bigint]> {
    return [...this.byOwner];
  }

  private claim(index: bigint, owner: string): void {
    this.byIndex.set(index, owner);
    this.byOwner.set(owner, index);
  }
}
