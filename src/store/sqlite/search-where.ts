import type { ScalarEntryKind } from '../../fhir/search/index-entry';
import type {
  ChainCondition,
  Comparison,
  CompositeCondition,
  Condition,
  EntryCondition,
  EntryPredicate,
  HasCondition,
} from '../../fhir/search/plan';
import { INDEX_TABLES } from './schema';
import { and, columnOf, concat, FALSE, frag, inList, or, predicate, TRUE, type Frag } from './search-sql';
import { conditionScore, DRIVER_LIMIT } from './search-score';

/** The resource row conditions apply to: its alias and the types it may have. */
export interface Scope {
  alias: string;
  types: readonly string[];
}

/**
 * Compiles plan conditions to a WHERE fragment over `resource` rows.
 *
 * Shape: the most selective condition (see search-score.ts) becomes the
 * *driver*, an uncorrelated `rid IN (SELECT rid FROM ix_... WHERE type = ?
 * AND param = ? AND ...)` that SQLite runs once through the
 * `(type, param, value)` index and then turns into rowid lookups. Every other
 * condition is a correlated `[NOT] EXISTS (... WHERE rid = r.rid AND param = ?
 * ...)` check through the `(rid, param)` index, cheap per candidate row. The
 * checks deliberately leave `type` out, so SQLite cannot pick the value
 * index for them and scan a whole parameter once per candidate.
 * @see https://hl7.org/fhir/R4/search.html#combining
 */
export class WhereCompiler {
  private n = 0;

  /** A fresh alias (`x1`, `t2`, ...): aliases are the only generated names in SQL text. */
  alias(prefix: string): string {
    return `${prefix}${++this.n}`;
  }

  /**
   * The filter for current resources of `scope` meeting every condition.
   * `access` says how the row is reached: `scan` when it is the root of its
   * query (a driver is chosen to find it), `ordered` when it is the root but
   * read in `resource(type, deleted, ref)` order with every condition checked
   * per row, `joined` when a join already determined it (checks only).
   */
  resources(scope: Scope, conds: readonly Condition[], access: Access): { sql: Frag; driven: boolean } {
    const driver = access === 'scan' ? pickDriver(conds) : -1;
    const parts = conds.map((c, i) => this.condition(scope, c, i === driver));
    // When the row comes from a rowid driver or a join, type and deleted are mere filters:
    // the unary `+` keeps SQLite from scanning resource(type, deleted, ...) instead.
    const viaRowid = access === 'joined' || (driver >= 0 && ROWID_DRIVERS.has(conds[driver].kind));
    const p = viaRowid ? '+' : '';
    const filter = [inList(`${p}${scope.alias}.type`, scope.types), frag(`${p}${scope.alias}.deleted = 0`)];
    return { sql: and([...filter, ...parts]), driven: driver >= 0 };
  }

  private condition(scope: Scope, c: Condition, drive: boolean): Frag {
    const r = scope.alias;
    switch (c.kind) {
      case 'entry':
        return drive ? this.entryDriver(scope, c) : this.entryCheck(r, c);
      case 'composite':
        return this.composite(scope, c, drive);
      case 'id':
        // No `deleted` test in the driver (the outer row has one): it would tempt SQLite into resource(type, deleted, ...).
        return drive
          ? this.resourceDriver(scope, 'i', (i) => inList(`${i}.id`, c.ids))
          : inList(`${r}.id`, c.ids, c.negate === true);
      case 'lastUpdated': {
        const at = (a: string) => predicate(c.predicate, () => `${a}.last_updated_ms`);
        return drive ? this.resourceDriver(scope, 'l', (l) => and([frag(`${l}.deleted = 0`), at(l)])) : at(r);
      }
      case 'chain':
        return drive ? this.chainDriver(scope, c) : this.chainCheck(r, c);
      case 'has':
        return drive ? this.hasDriver(scope, c) : this.hasCheck(r, c);
      default:
        throw new Error(`Unknown condition kind '${(c as Condition).kind}'`);
    }
  }

  /**
   * `_id` / `_lastUpdated` as a driver: rowids from resource's own (type, id)
   * or (type, deleted, last_updated_ms) index (the caller's condition says
   * which). Spelled as a subquery so that SQLite cannot trade that index for
   * resource(type, deleted, ref), which yields `ref` order for free but reads
   * the whole type.
   */
  private resourceDriver(scope: Scope, prefix: string, cond: (alias: string) => Frag): Frag {
    const a = this.alias(prefix);
    return concat([
      `${scope.alias}.rid IN (SELECT ${a}.rid FROM resource ${a} WHERE`,
      and([inList(`${a}.type`, scope.types), cond(a)]),
      ')',
    ]);
  }

  private entryPredicate(kind: ScalarEntryKind, x: string, pred: EntryPredicate): Frag {
    return predicate(pred, (field) => `${x}.${columnOf(kind, field)}`);
  }

  private entryCheck(r: string, c: EntryCondition): Frag {
    const { table } = INDEX_TABLES[c.entryKind];
    const x = this.alias('x');
    const pred = this.entryPredicate(c.entryKind, x, c.predicate);
    if (pred === FALSE) return c.negate ? TRUE : FALSE;
    return concat([
      `${c.negate ? 'NOT ' : ''}EXISTS (SELECT 1 FROM ${table} ${x} WHERE`,
      and([frag(`${x}.rid = ${r}.rid AND ${x}.param = ?`, c.param), pred]),
      ')',
    ]);
  }

  /**
   * How many index entries an entry condition's driver reads, counted up to
   * `limit`: one cheap index-only probe that tells a narrow condition from a
   * broad one. Undefined for conditions that are not entry drivers.
   */
  probe(scope: Scope, c: Condition, limit: number): Frag | undefined {
    if (c.kind !== 'entry' || c.negate || c.predicate.length === 0) return undefined;
    return concat(['SELECT COUNT(*) AS n FROM (', concat(this.entrySelects(scope, c), ' UNION ALL '), frag('LIMIT ?)', limit)]);
  }

  /** One index lookup per DNF alternative, so each alternative can use the value index on its own. */
  private entryDriver(scope: Scope, c: EntryCondition): Frag {
    const selects = this.entrySelects(scope, c);
    if (selects.length === 0) return FALSE;
    return concat([`${scope.alias}.rid IN (`, concat(selects, ' UNION ALL '), ')']);
  }

  private entrySelects(scope: Scope, c: EntryCondition): Frag[] {
    const { table } = INDEX_TABLES[c.entryKind];
    return c.predicate.map((alt) => {
      const x = this.alias('x');
      return concat([
        `SELECT ${x}.rid FROM ${table} ${x} WHERE`,
        and([
          inList(`${x}.type`, scope.types),
          frag(`${x}.param = ?`, c.param),
          this.entryPredicate(c.entryKind, x, [c.entryKind === 'date' ? withImpliedBounds(alt) : alt]),
        ]),
      ]);
    });
  }

  /** Parts of one combination share (rid, grp); their rows have param `<code>#<i>`. */
  private composite(scope: Scope, c: CompositeCondition, drive: boolean): Frag {
    const alternatives = c.anyOf.map((parts) => {
      if (parts.length === 0) return undefined;
      const aliases = parts.map(() => this.alias('p'));
      const from: (Frag | string)[] = [`FROM ${INDEX_TABLES[parts[0].entryKind].table} ${aliases[0]}`];
      const conds: Frag[] = [frag(`${aliases[0]}.param = ?`, `${c.param}#0`)];
      parts.forEach((part, i) => {
        const a = aliases[i];
        if (i > 0) {
          from.push(
            frag(
              `JOIN ${INDEX_TABLES[part.entryKind].table} ${a}` +
                ` ON ${a}.rid = ${aliases[0]}.rid AND ${a}.param = ? AND ${a}.grp = ${aliases[0]}.grp`,
              `${c.param}#${i}`,
            ),
          );
        }
        conds.push(this.entryPredicate(part.entryKind, a, part.predicate));
      });
      return { head: aliases[0], from: concat(from), conds };
    });
    const live = alternatives.filter((a): a is NonNullable<typeof a> => a !== undefined && !a.conds.includes(FALSE));
    if (live.length === 0) return FALSE;
    if (drive) {
      const selects = live.map((a) =>
        concat([`SELECT ${a.head}.rid`, a.from, 'WHERE', and([inList(`${a.head}.type`, scope.types), ...a.conds])]),
      );
      return concat([`${scope.alias}.rid IN (`, concat(selects, ' UNION ALL '), ')']);
    }
    return or(
      live.map((a) =>
        concat(['EXISTS (SELECT 1', a.from, 'WHERE', and([frag(`${a.head}.rid = ${scope.alias}.rid`), ...a.conds]), ')']),
      ),
    );
  }

  /** The target rows of a chain: current resources of the target types meeting the inner conditions. */
  private chainDriver(scope: Scope, c: ChainCondition): Frag {
    const x = this.alias('x');
    const t = this.alias('t');
    const targets = this.resources({ alias: t, types: c.targetTypes }, c.where, 'scan');
    return concat([
      `${scope.alias}.rid IN (SELECT ${x}.rid FROM ix_reference ${x} WHERE`,
      and([
        inList(`${x}.type`, scope.types),
        frag(`${x}.param = ?`, c.param),
        concat([`${x}.ref IN (SELECT ${t}.ref FROM resource ${t} WHERE`, targets.sql, ')']),
      ]),
      ')',
    ]);
  }

  private chainCheck(r: string, c: ChainCondition): Frag {
    const x = this.alias('x');
    const t = this.alias('t');
    const targets = this.resources({ alias: t, types: c.targetTypes }, c.where, 'joined');
    return concat([
      `EXISTS (SELECT 1 FROM ix_reference ${x} JOIN resource ${t} ON ${t}.type = ${x}.ref_type AND ${t}.id = ${x}.ref_id WHERE`,
      and([frag(`${x}.rid = ${r}.rid AND ${x}.param = ?`, c.param), inList(`${x}.ref_type`, c.targetTypes), targets.sql]),
      ')',
    ]);
  }

  /**
   * `_has` as a driver: the refs that qualifying sources point at, matched
   * against `resource(type, deleted, ref)`. Sources are found through their
   * own driver when they have one, else through the reference index.
   */
  private hasDriver(scope: Scope, c: HasCondition): Frag {
    const x = this.alias('x');
    const s = this.alias('s');
    const source = { alias: s, types: [c.sourceType] };
    const sources =
      pickDriver(c.where) >= 0
        ? concat([
            frag(
              `SELECT ${x}.ref FROM resource ${s} JOIN ix_reference ${x} ON ${x}.rid = ${s}.rid AND ${x}.param = ? WHERE`,
              c.param,
            ),
            this.resources(source, c.where, 'scan').sql,
          ])
        : concat([
            `SELECT ${x}.ref FROM ix_reference ${x} JOIN resource ${s} ON ${s}.rid = ${x}.rid WHERE`,
            and([frag(`${x}.type = ? AND ${x}.param = ?`, c.sourceType, c.param), this.resources(source, c.where, 'joined').sql]),
          ]);
    return concat([`${scope.alias}.ref IN (`, sources, ')']);
  }

  private hasCheck(r: string, c: HasCondition): Frag {
    const x = this.alias('x');
    const s = this.alias('s');
    const sources = this.resources({ alias: s, types: [c.sourceType] }, c.where, 'joined');
    return concat([
      `EXISTS (SELECT 1 FROM ix_reference ${x} JOIN resource ${s} ON ${s}.rid = ${x}.rid WHERE`,
      and([frag(`${x}.type = ? AND ${x}.param = ? AND ${x}.ref = ${r}.ref`, c.sourceType, c.param), sources.sql]),
      ')',
    ]);
  }
}

/** How a resource row is reached (see {@link WhereCompiler.resources}). */
export type Access = 'scan' | 'ordered' | 'joined';

/** Conditions whose driver yields rowids (`_has` drives through resource(type, deleted, ref) instead). */
const ROWID_DRIVERS = new Set<Condition['kind']>(['entry', 'composite', 'chain', 'id', 'lastUpdated']);

/** The index of the condition that should drive the query, or -1 when none narrows it enough. */
export function pickDriver(conds: readonly Condition[]): number {
  let driver = -1;
  let best = DRIVER_LIMIT;
  conds.forEach((c, i) => {
    const score = conditionScore(c);
    if (score < best) {
      best = score;
      driver = i;
    }
  });
  return driver;
}

/**
 * Adds the bounds a date alternative implies because every entry has
 * low <= high: `high <= b` gives `low <= b`, `low >= a` gives `high >= a`.
 * Redundant for the result, but it turns "low from a to infinity, then filter
 * on high" into the closed index range `low BETWEEN a AND b`.
 */
function withImpliedBounds(alt: readonly Comparison[]): Comparison[] {
  const out = [...alt];
  for (const c of alt) {
    if (c.field === 'high' && (c.op === 'lt' || c.op === 'le' || c.op === 'eq')) {
      out.push({ field: 'low', op: c.op === 'lt' ? 'lt' : 'le', value: c.value });
    } else if (c.field === 'low' && (c.op === 'gt' || c.op === 'ge' || c.op === 'eq')) {
      out.push({ field: 'high', op: c.op === 'gt' ? 'gt' : 'ge', value: c.value });
    }
  }
  return out;
}
