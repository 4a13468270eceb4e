// @ts-check
/**
 * Short pseudocode of the kernel functions the model's events stand for, written by
 * buddyscope in the kernel's names (6–15 lines each), so a class can follow a step
 * event by event the way Python Tutor follows a program line by line.  Pure data and
 * lookup, no DOM; lib/substeps.js decides which line an event is, views/substeps.js
 * draws it.
 *
 * Checked against the real source: mm/page_alloc.c and mm/page_reporting.c of Linux
 * 5.10 (5.3 and 5.7 differ in names of flags only: `bool report` for `fpi_flags`), and
 * for v2 "hinted pages" Alexander Duyck's July 2019 patch 4/5 as summarised in
 * kernel-semantics.md §2 (page_hinting_cycle, page_hinting_fill/drain,
 * get_unhinted_page, put_hinted_page).  Loops and locking the lesson does not need are
 * left out; a comment after `//` says what the line does in the model's terms.
 */

/**
 * @typedef {{id: string, code: string}} Line
 * @typedef {{name: string, file: string, source: string, lines: Line[]}} Listing
 *   source: the kernel the lines follow (other releases differ in detail)
 */

/**
 * @param {string} name
 * @param {string} file
 * @param {Array<[string, string]>} lines [id, code]
 * @param {string} [source]
 * @returns {Listing}
 */
function listing(name, file, lines, source = 'Linux 5.10') {
  return Object.freeze({ name, file, source, lines: Object.freeze(lines.map(([id, code]) => Object.freeze({ id, code }))) });
}

/** Every listing, by kernel function name. */
export const LISTINGS = Object.freeze(
  /** @type {Record<string, Listing>} */ ({
    get_page_from_freelist: listing('get_page_from_freelist', 'mm/page_alloc.c', [
      ['zones', 'for_next_zone_zonelist_nodemask(zone, z, highest_zoneidx, nodemask) {'],
      ['mark', '  mark = wmark_pages(zone, alloc_flags & ALLOC_WMARK_MASK);'],
      ['wmark', '  if (!zone_watermark_fast(zone, order, mark, highest_zoneidx, alloc_flags))'],
      ['skip', '    continue;                       // too little free here: the next zone'],
      ['rmqueue', '  page = rmqueue(preferred_zone, zone, order, gfp_mask, alloc_flags, migratetype);'],
      ['got', '  if (page) { prep_new_page(page, order, gfp_mask, alloc_flags); return page; }'],
      ['end', '}'],
      ['slow', 'return NULL;                        // the slow path: kswapd, reclaim, compaction'],
    ]),
    __rmqueue_smallest: listing('__rmqueue_smallest', 'mm/page_alloc.c', [
      ['loop', 'for (current_order = order; current_order < MAX_ORDER; ++current_order) {'],
      ['area', '  area = &zone->free_area[current_order];'],
      ['head', '  page = get_page_from_free_area(area, migratetype);   // the list head'],
      ['empty', '  if (!page) continue;              // empty list: try the next order up'],
      ['del', '  del_page_from_free_list(page, zone, current_order);'],
      ['expand', '  expand(zone, page, order, current_order, migratetype);'],
      ['mt', '  set_pcppage_migratetype(page, migratetype);'],
      ['return', '  return page;'],
      ['end', '}'],
      ['none', 'return NULL;                        // __rmqueue() then tries __rmqueue_fallback()'],
    ]),
    expand: listing('expand', 'mm/page_alloc.c', [
      ['sig', 'expand(zone, page, low, high, migratetype)'],
      ['size', 'unsigned long size = 1 << high;'],
      ['loop', 'while (high > low) {'],
      ['halve', '  high--; size >>= 1;                // halve: keep the lower half'],
      ['add', '  add_to_free_list(&page[size], zone, high, migratetype);   // upper half: list head'],
      ['order', '  set_buddy_order(&page[size], high);'],
      ['end', '}'],
    ]),
    __rmqueue_fallback: listing('__rmqueue_fallback', 'mm/page_alloc.c', [
      ['loop', 'for (current_order = MAX_ORDER - 1; current_order >= min_order; --current_order) {'],
      ['find', '  fallback_mt = find_suitable_fallback(area, current_order, start_migratetype, false, &can_steal);'],
      ['found', '  if (fallback_mt != -1) goto do_steal;   // the largest block of another type'],
      ['end', '}'],
      ['none', 'return false;'],
      ['do_steal', 'do_steal: page = get_page_from_free_area(area, fallback_mt);'],
      ['steal', 'steal_suitable_fallback(zone, page, alloc_flags, start_migratetype, can_steal):'],
      ['range', '  if (current_order >= pageblock_order) change_pageblock_range(page, current_order, start_type);'],
      ['boost', '  else { boost_watermark(zone);      // stealing raises the watermarks for a while'],
      ['move', '    move_freepages_block(zone, page, start_type, &movable_pages);   // move_to_free_list() each'],
      ['retype', '    if (free_pages + alike_pages >= pageblock_nr_pages / 2) set_pageblock_migratetype(page, start_type); }'],
      ['single', '  move_to_free_list(page, zone, current_order, start_type);   // single_page: the block itself'],
      ['retry', 'return true;                        // __rmqueue_smallest() again finds the block'],
    ]),
    __free_one_page: listing('__free_one_page', 'mm/page_alloc.c', [
      ['sig', '__free_one_page(page, pfn, zone, order, migratetype, fpi_flags)'],
      ['loop', 'while (order < MAX_ORDER - 1) {'],
      ['buddy', '  buddy_pfn = __find_buddy_pfn(pfn, order);     // pfn ^ (1 << order)'],
      ['is_buddy', '  if (!page_is_buddy(page, buddy, order))'],
      ['stop', '    goto done_merging;              // the buddy is not a free block of this order'],
      ['retype', '  /* 6.12, order >= pageblock_order: change_pageblock_range(buddy, order, migratetype); */'],
      ['del', '  del_page_from_free_list(buddy, zone, order);   // clears PG_reported / hinted'],
      ['combine', '  combined_pfn = buddy_pfn & pfn; pfn = combined_pfn; order++;'],
      ['end', '}'],
      ['done', 'done_merging: set_buddy_order(page, order);'],
      ['to_tail', 'to_tail = (fpi_flags & FPI_TO_TAIL) || buddy_merge_likely(pfn, buddy_pfn, page, order);'],
      ['tail', 'if (to_tail) add_to_free_list_tail(page, zone, order, migratetype);'],
      ['head', 'else         add_to_free_list(page, zone, order, migratetype);'],
      ['notify', 'if (!(fpi_flags & FPI_SKIP_REPORT_NOTIFY)) page_reporting_notify_free(order);'],
      ['notify_v2', '/* v2: if (!hinted) page_hinting_notify_free(zone, order); */'],
    ]),
    free_unref_page_commit: listing('free_unref_page_commit', 'mm/page_alloc.c', [
      ['sig', 'free_unref_page_commit(page, pfn)          // an order-0 free'],
      ['pcp', 'pcp = &this_cpu_ptr(zone->pageset)->pcp;'],
      ['add', 'list_add(&page->lru, &pcp->lists[migratetype]);   // this CPU\'s list, not the buddy lists'],
      ['count', 'pcp->count++;'],
      ['high', 'if (pcp->count >= pcp->high) {'],
      ['bulk', '  free_pcppages_bulk(zone, READ_ONCE(pcp->batch), pcp);   // each: __free_one_page(page, pfn, zone, 0, mt, FPI_NONE)'],
      ['end', '}'],
    ]),
    __rmqueue_pcplist: listing('__rmqueue_pcplist', 'mm/page_alloc.c', [
      ['sig', '__rmqueue_pcplist(zone, migratetype, alloc_flags, pcp, list)   // an order-0 allocation'],
      ['empty', 'if (list_empty(list)) {'],
      ['refill', '  pcp->count += rmqueue_bulk(zone, 0, pcp->batch, list, migratetype, alloc_flags);'],
      ['none', '  if (unlikely(list_empty(list))) return NULL;'],
      ['end', '}'],
      ['first', 'page = list_first_entry(list, struct page, lru);'],
      ['del', 'list_del(&page->lru); pcp->count--;'],
      ['return', 'return page;'],
    ]),
    balance_pgdat: listing('balance_pgdat', 'mm/vmscan.c', [
      ['sig', 'balance_pgdat(pgdat, order, highest_zoneidx)   // kswapd'],
      ['boosts', 'nr_boost_reclaim += zone->watermark_boost;   // for each zone'],
      ['reclaim', 'do { ... kswapd_shrink_node(pgdat, &sc); ... } while (!pgdat_balanced(...));'],
      ['boosted', 'if (boosted) {'],
      ['clear', '  zone->watermark_boost = 0;        // for each boosted zone: the boost ends'],
      ['compact', '  wakeup_kcompactd(pgdat, pageblock_order, highest_zoneidx);'],
      ['end', '}'],
    ]),
    __page_reporting_request: listing('__page_reporting_request', 'mm/page_reporting.c', [
      ['sig', '__page_reporting_request(prdev)           // from page_reporting_notify_free(order >= pageblock_order)'],
      ['read', 'state = atomic_read(&prdev->state);'],
      ['again', 'if (state == PAGE_REPORTING_REQUESTED) return;'],
      ['xchg', 'state = atomic_xchg(&prdev->state, PAGE_REPORTING_REQUESTED);'],
      ['busy', 'if (state != PAGE_REPORTING_IDLE) return;   // a pass is running: it goes round again'],
      ['schedule', 'schedule_delayed_work(&prdev->work, PAGE_REPORTING_DELAY);   // in 2 s'],
    ]),
    page_reporting_process: listing('page_reporting_process', 'mm/page_reporting.c', [
      ['sig', 'page_reporting_process(work)              // the delayed work'],
      ['active', 'atomic_set(&prdev->state, PAGE_REPORTING_ACTIVE);'],
      ['zones', 'for_each_zone(zone) {'],
      ['zone', '  err = page_reporting_process_zone(prdev, sgl, zone);'],
      ['end', '}'],
      ['idle', 'state = atomic_cmpxchg(&prdev->state, PAGE_REPORTING_ACTIVE, PAGE_REPORTING_IDLE);'],
      ['again', 'if (state == PAGE_REPORTING_REQUESTED)'],
      ['schedule', '  schedule_delayed_work(&prdev->work, PAGE_REPORTING_DELAY);   // another pass in 2 s'],
    ]),
    page_reporting_process_zone: listing('page_reporting_process_zone', 'mm/page_reporting.c', [
      ['mark', 'watermark = low_wmark_pages(zone) + (PAGE_REPORTING_CAPACITY << PAGE_REPORTING_MIN_ORDER);'],
      ['gate', 'if (!zone_watermark_ok(zone, 0, watermark, 0, ALLOC_CMA))'],
      ['skip', '  return err;                       // too little free memory: the zone is skipped'],
      ['orders', 'for (order = PAGE_REPORTING_MIN_ORDER; order < MAX_ORDER; order++)'],
      ['mts', '  for (mt = 0; mt < MIGRATE_TYPES; mt++)    // not MIGRATE_ISOLATE'],
      ['cycle', '    err = page_reporting_cycle(prdev, zone, order, mt, sgl, &offset);'],
      ['leftover', 'leftover = PAGE_REPORTING_CAPACITY - offset;'],
      ['report', 'if (leftover) err = prdev->report(prdev, &sgl[offset], leftover);   // the partial batch'],
      ['drain', 'if (leftover) page_reporting_drain(prdev, &sgl[offset], leftover, !err);'],
    ]),
    page_reporting_cycle: listing('page_reporting_cycle', 'mm/page_reporting.c', [
      ['budget', 'budget = DIV_ROUND_UP(area->nr_free, PAGE_REPORTING_CAPACITY * 16);'],
      ['walk', 'list_for_each_entry_safe(page, next, list, lru) {   // from the head'],
      ['reported', '  if (PageReported(page)) continue;'],
      ['over', '  if (budget < 0) { atomic_set(&prdev->state, PAGE_REPORTING_REQUESTED); break; }'],
      ['room', '  if (*offset) {'],
      ['isolate', '    if (!__isolate_free_page(page, order)) break;   // off the list, into the batch'],
      ['sg', '    sg_set_page(&sgl[--(*offset)], page, page_len, 0);   // the batch fills from its end'],
      ['next', '    continue;'],
      ['close', '  }'],
      ['rotate', '  list_rotate_to_front(&page->lru, list);   // the first block not taken becomes the head'],
      ['report', '  err = prdev->report(prdev, sgl, PAGE_REPORTING_CAPACITY);   // the host discards them'],
      ['reset', '  *offset = PAGE_REPORTING_CAPACITY; budget--;'],
      ['drain', '  page_reporting_drain(prdev, sgl, PAGE_REPORTING_CAPACITY, !err);'],
      ['end', '}'],
      ['leftover', 'list_rotate_to_front(&next->lru, list);   // where this list stopped goes first next time'],
    ]),
    page_reporting_drain: listing('page_reporting_drain', 'mm/page_reporting.c', [
      ['loop', 'do {'],
      ['page', '  page = sg_page(sg); order = get_order(sg->length);'],
      ['mt', '  mt = get_pageblock_migratetype(page);'],
      ['putback', '  __putback_isolated_page(page, order, mt);   // __free_one_page(..., FPI_SKIP_REPORT_NOTIFY | FPI_TO_TAIL)'],
      ['failed', '  if (!reported) continue;'],
      ['same', '  if (PageBuddy(page) && buddy_order(page) == order)   // not merged on the way back'],
      ['set', '    __SetPageReported(page);'],
      ['end', '} while ((sg = sg_next(sg)));'],
    ]),
    __page_hinting_request: listing('__page_hinting_request', 'mm/page_hinting.c', [
      ['sig', '__page_hinting_request(zone)   // page_hinting_notify_free: order >= 9 and nr_free >= hinted_pages + 32'],
      ['dev', 'phdev = rcu_dereference(ph_dev_info);'],
      ['none', 'if (!phdev) return;'],
      ['requested', 'set_bit(ZONE_PAGE_HINTING_REQUESTED, &zone->flags);'],
      ['first', 'if (atomic_fetch_inc(&phdev->refcnt) == 0)'],
      ['schedule', '  schedule_delayed_work(&phdev->work, HZ / 10);   // in 100 ms'],
    ], 'the v2 patches, July 2019'),
    page_hinting_cycle: listing('page_hinting_cycle', 'mm/page_hinting.c', [
      ['populate', 'page_hinting_populate_metadata(zone);   // every boundary back to its list head'],
      ['lock', 'spin_lock(&zone->lock);'],
      ['active', '__set_bit(ZONE_PAGE_HINTING_ACTIVE, &zone->flags);'],
      ['loop', 'do {'],
      ['fill', '  num_hints = page_hinting_fill(zone, phdev);'],
      ['none', '  if (!num_hints) break;'],
      ['unlock', '  spin_unlock(&zone->lock);'],
      ['react', '  phdev->react(phdev, num_hints);   // the host discards them'],
      ['relock', '  spin_lock(&zone->lock);'],
      ['drain', '  page_hinting_drain(zone, phdev);'],
      ['while', '} while (test_bit(ZONE_PAGE_HINTING_REQUESTED, &zone->flags));'],
      ['inactive', '__clear_bit(ZONE_PAGE_HINTING_ACTIVE, &zone->flags);'],
    ], 'the v2 patches, July 2019'),
    page_hinting_fill: listing('page_hinting_fill', 'mm/page_hinting.c', [
      ['init', 'sg_init_table(phdev->sg, phdev->capacity);'],
      ['lists', 'for_each_hinting_migratetype_order(order, mt) {   // order 10 then 9'],
      ['get', '  while ((page = get_unhinted_page(zone, order, mt))) {   // the block just before the boundary'],
      ['sg', '    sg_set_page(&phdev->sg[count], page, PAGE_SIZE << order, 0);'],
      ['full', '    if (++count == phdev->capacity) return count;   // full: REQUESTED stays set'],
      ['end', '  }'],
      ['close', '}'],
      ['done', '__clear_bit(ZONE_PAGE_HINTING_REQUESTED, &zone->flags);   // nothing unhinted is left'],
      ['refcnt', 'atomic_dec(&phdev->refcnt);'],
      ['return', 'return count;'],
    ], 'the v2 patches, July 2019'),
    page_hinting_drain: listing('page_hinting_drain', 'mm/page_hinting.c', [
      ['loop', 'for (i = 0; i < num_hints; i++) put_hinted_page(zone, sg_page(&phdev->sg[i]));'],
      ['sig', 'put_hinted_page(zone, page):'],
      ['free', '  __free_one_page(page, pfn, zone, order, mt, true);   // hinted: tail, before the boundary; no notify'],
      ['merged', '  if (!PageBuddy(page) || page_private(page) != order) return;   // merged: unhinted'],
      ['count', '  zone->hinted_pages[order - PAGE_HINTING_MIN_ORDER]++;'],
      ['boundary', '  page_hinting_add_to_boundary(page, zone, mt);   // the boundary moves up to it'],
      ['set', '  __SetPageHinted(page);'],
    ], 'the v2 patches, July 2019'),
    handle_mm_fault: listing('handle_mm_fault', 'mm/memory.c', [
      ['touch', 'handle_mm_fault(vma, address, flags)   // the guest writes its page as usual'],
      ['exit', '  → the host has no backing for this guest frame: an EPT/NPT violation exits'],
      ['host', '  → the host faults in a fresh zero-filled page (host RSS grows again)'],
      ['resume', '  → the guest resumes; the page reads as zeros (it was free: nobody minds)'],
      ['cost', 'the cost of hinting/reporting: one host round trip per refaulted page'],
      ['why', 'it is why hinted/reported blocks sit at the tail: warm pages are reused first'],
    ], 'the guest, then the host'),
  }),
);

/**
 * The index of line `id` in listing `name` (-1 when there is none).
 * @param {string} name
 * @param {string} id
 */
export function lineIndex(name, id) {
  const l = LISTINGS[name];
  return l ? l.lines.findIndex((x) => x.id === id) : -1;
}
