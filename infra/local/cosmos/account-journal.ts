// Local Cosmos stand-in: records every change cosmosdb-server makes to its databases, containers and documents (the
// resulting item, with its _rid, _etag, _ts and _self), and rebuilds exactly that state from the records at start.
import type Account from '@zeit/cosmosdb-server/lib/account';
import type Item from '@zeit/cosmosdb-server/lib/account/item';
import type ItemObject from '@zeit/cosmosdb-server/lib/account/item-object';
import type Items from '@zeit/cosmosdb-server/lib/account/items';

/**
 * `p` names the set an item lives in: `[]` databases, `[dbRid]` the containers of a database, `[dbRid, collRid]` the
 * documents of a container (rids never repeat: `n`, the set's rid counter, is restored too). A `put` replaces the item
 * with the same `_rid`; `n` alone restores the counter of a set that is empty in a snapshot.
 */
export type CosmosRecord =
  | { t: 'put'; p: string[]; n: number; d: ItemObject }
  | { t: 'del'; p: string[]; n: number; r: string }
  | { t: 'n'; p: string[]; n: number };

type AnyItems = Items<Item, Item>;
type OnChild = (item: Item, data: ItemObject) => void;

export interface AccountJournal {
  /** Applies records to the (fresh) account; nothing is emitted meanwhile. @throws when a record names a missing item */
  replay(records: readonly CosmosRecord[]): void;
  /** The live state as records, in the server's own iteration order. */
  snapshot(): CosmosRecord[];
  /** How many items `snapshot()` would write (databases + containers + documents). */
  liveCount(): number;
}

/**
 * Watches the account's item sets so that every successful create, replace, upsert and delete of a database,
 * container or document (also inside a batch) emits one record, synchronously, before its response is built.
 * User-defined functions are not journaled (kars uses none; see docs/cosmos-local-gaps.md).
 */
export function journalAccount(account: Account, emit: (record: CosmosRecord) => void): AccountJournal {
  let replaying = false;
  const send = (record: CosmosRecord): void => {
    if (!replaying) emit(record);
  };
  const databases = account.databases as unknown as AnyItems;
  const onDatabase: OnChild = (db, d) => {
    watch(collectionsOf(db), [d._rid], send, (coll, c) => watch(documentsOf(coll), [d._rid, c._rid], send));
  };
  watch(databases, [], send, onDatabase);

  const itemsAt = (p: readonly string[]): AnyItems => {
    if (p.length === 0) return databases;
    const db = databases._data.get(p[0]!);
    if (!db) throw new Error(`cosmos journal names a missing database ${p[0]}`);
    if (p.length === 1) return collectionsOf(db);
    const coll = collectionsOf(db)._data.get(p[1]!);
    if (!coll) throw new Error(`cosmos journal names a missing container ${p[1]}`);
    return documentsOf(coll);
  };

  return {
    replay(records) {
      replaying = true;
      try {
        for (const r of records) {
          const items = itemsAt(r.p);
          if (r.t === 'put') {
            const old = items._data.get(r.d._rid)?.read();
            if (old) items.delete(old.id, items._getPartition(old));
            items._set(r.d);
          } else if (r.t === 'del') {
            const old = items._data.get(r.r)?.read();
            if (!old) throw new Error(`cosmos journal deletes a missing item ${r.r}`);
            items.delete(old.id, items._getPartition(old));
          }
          items._ridCount = r.n;
        }
      } finally {
        replaying = false;
      }
    },
    snapshot() {
      const out: CosmosRecord[] = [];
      const dump = (items: AnyItems, p: string[], onChild?: OnChild): void => {
        if (items._data.size === 0 && items._ridCount > 0) out.push({ t: 'n', p, n: items._ridCount });
        for (const item of items._data.values()) {
          const d = item.read();
          out.push({ t: 'put', p, n: items._ridCount, d });
          onChild?.(item, d);
        }
      };
      dump(databases, [], (db, d) => dump(collectionsOf(db), [d._rid], (coll, c) => dump(documentsOf(coll), [d._rid, c._rid])));
      return out;
    },
    liveCount() {
      let n = databases._data.size;
      for (const db of databases._data.values()) {
        n += collectionsOf(db)._data.size;
        for (const coll of collectionsOf(db)._data.values()) n += documentsOf(coll)._data.size;
      }
      return n;
    },
  };
}

const collectionsOf = (db: Item): AnyItems => (db as unknown as { collections: AnyItems }).collections;
const documentsOf = (coll: Item): AnyItems => (coll as unknown as { documents: AnyItems }).documents;

/**
 * Wraps one item set's own methods (not the shared prototypes: several servers may share a process). `_set` is where
 * every create and replace lands with the final item; a replace deletes and re-sets the same `_rid`, so its inner
 * delete is not a record of its own (a torn log can then never hold the delete without the new version).
 */
function watch(items: AnyItems, path: string[], emit: (record: CosmosRecord) => void, onChild?: OnChild): void {
  const proto = Object.getPrototypeOf(items) as AnyItems;
  let replacing = 0;
  items._newItem = (data) => {
    const item = proto._newItem.call(items, data);
    if (data && onChild) onChild(item, data);
    return item;
  };
  items._set = (data) => {
    const stored = proto._set.call(items, data);
    emit({ t: 'put', p: path, n: items._ridCount, d: stored });
    return stored;
  };
  items.delete = (idOrRid, partition) => {
    const rid = (items._item('/id', idOrRid, partition).read() as ItemObject | undefined)?._rid;
    proto.delete.call(items, idOrRid, partition);
    if (replacing === 0 && rid !== undefined) emit({ t: 'del', p: path, n: items._ridCount, r: rid });
  };
  items.replace = (data, original) => {
    replacing += 1;
    try {
      return proto.replace.call(items, data, original);
    } finally {
      replacing -= 1;
    }
  };
}
