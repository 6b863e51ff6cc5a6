import type { ScalarEntryKind } from '../../fhir/search/index-entry';
import type {
  AnyOfCondition,
  ChainCondition,
  CompositeCondition,
  Condition,
  EntryCondition,
  EntryPredicate,
  HasCondition,
  LastUpdatedCondition,
} from '../../fhir/search/plan';
import { INDEX_TABLES } from './schema';
import { spanSelects, withImpliedBounds, type Bounds } from './search-date-span';
import { and, columnOf, concat, FALSE, frag, inList, limitClause, or, predicate, TRUE, type Frag } from './search-sql';
import { pickDriver, type Driver } from './search-score';

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
 * Two-sided date ranges made of several conditions drive through the span
 * range of their parameter instead (search-date-span.ts), a superset of the
 * matches, with every condition checked.
 * @see https://hl7.org/fhir/R4/search.html#combining
 */
export class WhereCompiler {
  private n = 0;

  /** `ns`: a namespace for the aliases of a sub-compiler (see {@link alternatives}). */
  constructor(private readonly ns = '') {}

  /** A fresh alias (`x1`, `t2`, ...): aliases are the only generated names in SQL text. */
  alias(prefix: string): string {
    return `${prefix}${this.ns}${++this.n}`;
  }

  /**
   * The filter for current resources of `scope` meeting every condition.
   * `access` says how the row is reached: `scan` when it is the root of its
   * query (a driver is chosen to find it), `ordered` when it is the root but
   * read in `resource(type, deleted, ref)` order with every condition checked
   * per row, `joined` when a join already determined it (checks only).
   */
  resources(scope: Scope, conds: readonly Condition[], access: Access): { sql: Frag; driven: boolean } {
    const driver = access === 'scan' ? pickDriver(conds) : undefined;
    const driving = driver?.kind === 'condition' ? driver.index : -1;
    const parts = conds.map((c, i) =>
      i === driving ? this.driver(scope, conds, driver as Driver) : this.condition(scope, c),
    );
    // A span range drives on its own: every condition is then a check.
    if (driver?.kind === 'span') parts.unshift(this.driver(scope, conds, driver));
    // When the row comes from a rowid driver or a join, type and deleted are mere filters:
    // the unary `+` keeps SQLite from scanning resource(type, deleted, ...) instead.
    const rowids = driver !== undefined && (driving < 0 || ROWID_DRIVERS.has(conds[driving].kind));
    const viaRowid = access === 'joined' || rowids;
    const p = viaRowid ? '+' : '';
    const filter = [inList(`${p}${scope.alias}.type`, scope.types), frag(`${p}${scope.alias}.deleted = 0`)];
    return { sql: and([...filter, ...parts]), driven: driver !== undefined };
  }

  /**
   * Every condition as a per-row check on a row the caller has already found
   * (history restricted to visible resources); no driver, no type filter.
   */
  checks(scope: Scope, conds: readonly Condition[]): Frag {
    return and(conds.map((c) => this.condition(scope, c)));
  }

  /** The driver's fragment: `rid IN (candidates)` where it has a candidate list, else the condition's own driver. */
  private driver(scope: Scope, conds: readonly Condition[], driver: Driver): Frag {
    const selects = this.candidates(scope, conds, driver);
    if (selects) {
      return selects.length === 0 ? FALSE : concat([`${scope.alias}.rid IN (`, concat(selects, ' UNION ALL '), ')']);
    }
    const c = conds[(driver as { index: number }).index];
    switch (c.kind) {
      case 'composite':
        return this.composite(scope, c, true);
      case 'id':
        // No `deleted` test in the driver (the outer row has one): it would tempt SQLite into resource(type, deleted, ...).
        return this.resourceDriver(scope, 'i', (i) => inList(`${i}.id`, c.ids));
      case 'chain':
        return this.chainDriver(scope, c);
      case 'has':
        return this.hasDriver(scope, c);
      default:
        throw new Error(`Condition kind '${c.kind}' cannot drive a query`);
    }
  }

  /**
   * The candidate rid selects of drivers read from one index (entry
   * conditions, span ranges, `_lastUpdated`), which can also be counted;
   * undefined for the others.
   */
  private candidates(scope: Scope, conds: readonly Condition[], driver: Driver): Frag[] | undefined {
    if (driver.kind === 'span') return spanSelects(() => this.alias('s'), scope.types, driver.range);
    const c = conds[driver.index];
    if (c.kind === 'entry') return this.entrySelects(scope, c);
    if (c.kind === 'lastUpdated') return [this.lastUpdatedSelect(scope, c, driver.bounds)];
    return undefined;
  }

  private condition(scope: Scope, c: Condition): Frag {
    const r = scope.alias;
    switch (c.kind) {
      case 'entry':
        return this.entryCheck(r, c);
      case 'composite':
        return this.composite(scope, c, false);
      case 'id':
        return inList(`${r}.id`, c.ids, c.negate === true);
      case 'lastUpdated':
        return predicate(c.predicate, () => `${r}.last_updated_ms`);
      case 'chain':
        return this.chainCheck(r, c);
      case 'has':
        return this.hasCheck(r, c);
      case 'anyOf':
        // Checked per candidate row (never a driver, see search-score.ts): the access restriction sits here.
        return this.alternatives(scope, c.alternatives);
      default:
        throw new Error(`Unknown condition kind '${(c as Condition).kind}'`);
    }
  }

  /**
   * A disjunction of alternatives, compiled once per list and scope: the
   * access restriction is one list per caller until a fact changes
   * (AccessGuard memoizes it), and compiling it cost more than running it.
   * A sub-compiler with its own alias namespace makes the text the same
   * whether it is compiled now or taken from the cache; every alias it makes
   * is declared inside an `EXISTS` subquery of its own, so none can clash
   * with the enclosing query's.
   */
  private alternatives(scope: Scope, alternatives: AnyOfCondition['alternatives']): Frag {
    const key = `${scope.alias}|${scope.types.join(',')}`;
    let byScope = COMPILED_ALTERNATIVES.get(alternatives);
    const hit = byScope?.get(key);
    if (hit) return hit;
    const sub = new WhereCompiler(`${this.ns}a`);
    const compiled = or(alternatives.map((alt) => and(alt.map((x) => sub.condition(scope, x)))));
    if (!byScope) COMPILED_ALTERNATIVES.set(alternatives, (byScope = new Map()));
    byScope.set(key, compiled);
    return compiled;
  }

  /**
   * `_id` / `_lastUpdated` as a driver: rowids from resource's own (type, id)
   * or (type, deleted, last_updated_ms) index (the caller's condition says
   * which). Spelled as a subquery so that SQLite cannot trade that index for
   * resource(type, deleted, ref), which yields `ref` order for free but reads
   * the whole type.
   */
  private resourceDriver(scope: Scope, prefix: string, cond: (alias: string) => Frag): Frag {
    return concat([`${scope.alias}.rid IN (`, this.resourceSelect(scope, prefix, cond), ')']);
  }

  private resourceSelect(scope: Scope, prefix: string, cond: (alias: string) => Frag): Frag {
    const a = this.alias(prefix);
    return concat([`SELECT ${a}.rid FROM resource ${a} WHERE`, and([inList(`${a}.type`, scope.types), cond(a)])]);
  }

  /**
   * `_lastUpdated` candidates, with the bounds of every `_lastUpdated`
   * condition of the query spelled as plain comparisons: `ge` is an OR that
   * SQLite cannot read as one range, `lu >= L AND lu <= U` is one.
   */
  private lastUpdatedSelect(scope: Scope, c: LastUpdatedCondition, bounds: Bounds | undefined): Frag {
    return this.resourceSelect(scope, 'l', (l) => {
      const lu = `${l}.last_updated_ms`;
      const range = [
        ...(bounds && Number.isFinite(bounds.lower) ? [frag(`${lu} >= ?`, bounds.lower)] : []),
        ...(bounds && Number.isFinite(bounds.upper) ? [frag(`${lu} <= ?`, bounds.upper)] : []),
      ];
      return and([frag(`${l}.deleted = 0`), ...range, predicate(c.predicate, () => lu)]);
    });
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
   * How many candidates a driver reads, counted up to `limit`: one cheap
   * index-only probe that tells a narrow driver from a broad one. Undefined
   * for drivers without a candidate list (see {@link candidates}).
   */
  probe(scope: Scope, conds: readonly Condition[], driver: Driver, limit: number): Frag | undefined {
    const selects = this.candidates(scope, conds, driver);
    if (!selects || selects.length === 0) return undefined;
    return concat(['SELECT COUNT(*) AS n FROM (', concat(selects, ' UNION ALL '), `${limitClause(limit)})`]);
  }

  /** One index lookup per DNF alternative, so each alternative can use the value index on its own. */
  private entrySelects(scope: Scope, c: EntryCondition): Frag[] {
    const { table, plainValueIndex } = INDEX_TABLES[c.entryKind];
    return c.predicate.map((alt) => {
      const x = this.alias('x');
      return concat([
        `SELECT ${x}.rid FROM ${table} ${x} WHERE`,
        and([
          inList(`${x}.type`, scope.types),
          // Implies the partial value index's condition (schema.ts): a plain parameter has no grp anyway.
          frag(plainValueIndex ? `${x}.param = ? AND ${x}.grp IS NULL` : `${x}.param = ?`, c.param),
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
      pickDriver(c.where) !== undefined
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

/**
 * Compiled alternatives by list (identity) and scope. Weak: an entry goes
 * with its list, so the cache holds what the restriction memo holds. Plan
 * conditions are never changed once built, which is what makes the
 * identity a sound key.
 */
const COMPILED_ALTERNATIVES = new WeakMap<AnyOfCondition['alternatives'], Map<string, Frag>>();

/** How a resource row is reached (see {@link WhereCompiler.resources}). */
export type Access = 'scan' | 'ordered' | 'joined';

/** Conditions whose driver yields rowids (`_has` drives through resource(type, deleted, ref) instead). */
const ROWID_DRIVERS = new Set<Condition['kind']>(['entry', 'composite', 'chain', 'id', 'lastUpdated']);
