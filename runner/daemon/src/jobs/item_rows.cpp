#include "jobs/item_rows.hpp"

namespace imagepipe::jobs {

using nlohmann::json;

void insert_items(Database& db, const std::string& job_id, const std::vector<ItemResult>& items) {
  if (items.empty()) return;
  Transaction tx(db);
  auto insert = db.prepare("INSERT OR REPLACE INTO items(job_id, idx, item) VALUES(?, ?, ?)");
  for (const auto& item : items)
    insert.bind(1, job_id)
        .bind(2, static_cast<std::int64_t>(item.index))
        .bind(3, item_result_to_json(item).dump())
        .run();
  tx.commit();
}

ItemPage select_item_page(Database& db, const std::string& job_id, std::optional<std::size_t> after,
                          int limit) {
  auto q = db.prepare("SELECT item FROM items WHERE job_id=? AND idx>? ORDER BY idx LIMIT ?");
  q.bind(1, job_id)
      .bind(2, after ? static_cast<std::int64_t>(*after) : std::int64_t{-1})
      .bind(3, std::int64_t{limit} + 1);  // one more says whether more follow
  ItemPage page;
  while (q.step()) {
    if (page.items.size() == static_cast<std::size_t>(limit)) {
      page.more = true;
      break;
    }
    page.items.push_back(item_result_from_json(json::parse(q.text(0))));
  }
  return page;
}

void forget_items(Database& db, const std::string& job_id) {
  db.prepare("DELETE FROM items WHERE job_id=?").bind(1, job_id).run();
}

}  // namespace imagepipe::jobs
