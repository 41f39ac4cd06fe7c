// Counsel Room: keeps the dashboard's lobby lists live.
"use strict";
(function () {
  const ROLES = { host: t("host"), worker: t("worker"), interpreter: t("interpreter"), observer: t("observer") };
  async function refresh() {
    try {
      const res = await fetch("/api/staff/waiting", { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!res.ok) return;
      const data = await res.json();
      for (const room of data.rooms) {
        const card = document.querySelector(`[data-room-id="${CSS.escape(room.room_id)}"]`);
        if (!card) continue;
        const count = card.querySelector(".waiting-count");
        const list = card.querySelector(".waiting-names");
        if (!count || !list) continue;
        count.textContent = String(room.waiting.length);
        list.replaceChildren(...room.waiting.map((p) => {
          const li = document.createElement("li");
          li.textContent = `${p.name} (${ROLES[p.role] || p.role})`;
          return li;
        }));
      }
    } catch (err) { /* offline: try again on the next tick */ }
  }
  setInterval(refresh, 5000);
})();
