// Progressive enhancement of the claim form; the form works without it.
(() => {
  const form = document.getElementById("claim-form");
  if (!form) return;
  const school = document.getElementById("school");
  const search = document.querySelector(".school-search input[name=q]");
  if (search && school) {
    // filter the school list as the student types instead of reloading the page
    search.addEventListener("input", () => {
      const q = search.value.trim().toLowerCase();
      for (const opt of school.options) {
        if (!opt.value) continue;
        opt.hidden = q !== "" && !opt.dataset.search.includes(q);
      }
    });
    search.form.addEventListener("submit", (e) => { e.preventDefault(); school.focus(); });
  }
  const point = document.getElementById("point");
  const slot = document.getElementById("slot");
  const syncSlots = () => {
    if (!point || !slot) return;
    for (const group of slot.querySelectorAll("optgroup")) {
      group.hidden = point.value !== "" && group.dataset.point !== point.value;
    }
    const chosen = slot.selectedOptions[0];
    if (chosen && chosen.dataset.point && chosen.dataset.point !== point.value) slot.value = "";
  };
  point && point.addEventListener("change", syncSlots);
  syncSlots();
  const pickup = document.getElementById("pickup-fields");
  const delivery = document.getElementById("delivery-fields");
  const syncMode = () => {
    const mode = form.querySelector("input[name=fulfilment]:checked")?.value || "pickup";
    if (pickup) pickup.hidden = mode !== "pickup";
    if (delivery) delivery.hidden = mode !== "delivery";
  };
  form.querySelectorAll("input[name=fulfilment]").forEach((r) => r.addEventListener("change", syncMode));
  syncMode();
  const locate = document.getElementById("locate");
  if (locate && navigator.geolocation) {
    locate.hidden = false;
    locate.addEventListener("click", () => {
      locate.disabled = true;
      navigator.geolocation.getCurrentPosition(
        (pos) => {
          document.getElementById("lat").value = pos.coords.latitude.toFixed(5);
          document.getElementById("lon").value = pos.coords.longitude.toFixed(5);
          locate.disabled = false;
        },
        () => { locate.disabled = false; },
        { enableHighAccuracy: true, timeout: 15000 },
      );
    });
  }
})();
