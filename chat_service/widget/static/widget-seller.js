/* Seller tools: respond to a quote with unit prices and a validity date, and
 * send quick actions (propose a replacement item, ask for a photo, confirm a
 * delivery date) as structured messages. Load after widget.js and
 * widget-extras.js. Only a participant whose role in the conversation is
 * "seller" sees them; the service checks that again. Errors from the API are
 * shown next to the field they concern. Everything goes in via textContent. */
(function (global) {
  "use strict";
  const { Widget, h, icon, randomId } = global.ChatWidget;
  const base = Widget.prototype;
  const RESPONDABLE = new Set(["requested", "responded", "countered"]);
  const DEFAULT_VALIDITY_DAYS = 14;
  const DAY_MS = 86400000;

  function isoDay(date) {
    const pad = (n) => String(n).padStart(2, "0");
    return date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate());
  }

  /** The end of a local calendar day, as the API's timezone-aware timestamp. */
  function endOfDay(value) {
    const [y, m, d] = value.split("-").map(Number);
    const end = new Date(y, m - 1, d, 23, 59, 0);
    return Number.isNaN(end.getTime()) ? value : end.toISOString();
  }

  const BOLT = "M13 2 3 14h7l-1 8 10-12h-7l1-8Z";

  /** A labelled control with its own error line (announced via aria-describedby). */
  function field(labelText, control, hintText) {
    control.id = "cw-f-" + randomId().slice(0, 12);
    const error = h("p", { class: "cw-field-error", id: control.id + "-err", hidden: true });
    const hint = hintText ? h("p", { class: "cw-hint", id: control.id + "-hint", text: hintText }) : null;
    control.setAttribute("aria-describedby", (hint ? hint.id + " " : "") + error.id);
    const wrap = h("div", { class: "cw-field" }, h("label", { for: control.id, text: labelText }), hint, control, error);
    return { wrap, control, error };
  }

  function sheetForm(title, onClose) {
    const titleId = "cw-t-" + randomId().slice(0, 12);
    const alert = h("p", { class: "cw-form-error", role: "alert" });
    const form = h("form", { class: "cw-sheet-form", novalidate: true, "aria-labelledby": titleId });
    const dialog = h(
      "dialog",
      { class: "cw-sheet", "aria-labelledby": titleId },
      h("h3", { class: "cw-sheet-title", id: titleId, text: title }),
      form,
    );
    dialog.addEventListener("close", () => {
      dialog.remove();
      onClose();
    });
    return { dialog, form, alert };
  }

  function clearErrors(form, alert) {
    alert.textContent = "";
    for (const node of form.querySelectorAll(".cw-field-error")) {
      node.textContent = "";
      node.hidden = true;
    }
    for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  }

  function showFieldError(f, text) {
    f.error.textContent = text;
    f.error.hidden = false;
    f.control.setAttribute("aria-invalid", "true");
  }

  function buttons(cancelText, submitText, dialog) {
    const cancel = h("button", { type: "button", class: "cw-btn", text: cancelText });
    const submit = h("button", { type: "submit", class: "cw-btn cw-primary", text: submitText });
    cancel.addEventListener("click", () => dialog.close());
    return { row: h("div", { class: "cw-sheet-actions" }, cancel, submit), submit };
  }

  function generalError(error) {
    if (error.status === undefined) return "Could not reach the chat service. Check the connection and try again.";
    if (error.code === "rate_limited") return "Too many changes at once. Try again in a minute.";
    return error.detail || "Something went wrong (" + (error.code || error.status) + ").";
  }

  base.isSeller = function () {
    const people = (this.conversation && this.conversation.participants) || [];
    const me = people.find((p) => p.user_id === this.me);
    return Boolean(me && me.role === "seller");
  };

  // ---- quote response ------------------------------------------------------------

  base.onCard = function (type, quote) {
    if (type !== "quote" || !this.isSeller() || !RESPONDABLE.has(quote.status)) return;
    const revisions = quote.revisions || [];
    const latest = revisions[revisions.length - 1];
    const label = latest && latest.author === "seller" ? "Revise offer" : "Respond with a price";
    const button = h("button", { type: "button", class: "cw-respond", text: label });
    button.addEventListener("click", () => this.openQuoteForm(quote));
    let row = this.cardEl.querySelector(".cw-card-actions");
    if (!row) {
      row = h("div", { class: "cw-card-actions" });
      this.cardEl.append(row);
    }
    row.append(button);
  };

  base.openQuoteForm = function (quote) {
    const revisions = quote.revisions || [];
    const latest = revisions[revisions.length - 1];
    const known = (latest && latest.prices) || {};
    const { dialog, form, alert } = sheetForm("Respond to quote " + quote.id, () => {
      (this.cardEl.querySelector(".cw-respond") || this.input).focus();
    });
    const lines = (quote.lines || []).map((line) => {
      const input = h("input", { type: "text", inputmode: "decimal", autocomplete: "off", class: "cw-price" });
      input.value = known[line.line_id] || "";
      const hint = "SKU " + line.sku + " · unit price in " + quote.currency;
      return Object.assign(field(line.name + " × " + line.quantity, input, hint), { line });
    });
    const today = new Date();
    const until = field("Valid until", h("input", { type: "date", min: isoDay(today) }), "The offer lapses at the end of this day.");
    until.control.value = isoDay(new Date(today.getTime() + DEFAULT_VALIDITY_DAYS * DAY_MS));
    const note = field("Note to the buyer (optional)", h("textarea", { rows: "2", maxlength: "5000" }));
    const total = h("p", { class: "cw-total", "aria-live": "polite" });
    const updateTotal = () => {
      let sum = 0;
      for (const f of lines) {
        const price = Number(f.control.value);
        if (!f.control.value || Number.isNaN(price)) {
          total.textContent = "";
          return;
        }
        sum += price * f.line.quantity;
      }
      total.textContent = "Total: " + this.money(sum.toFixed(2), quote.currency);
    };
    form.addEventListener("input", updateTotal);
    updateTotal();
    const { row, submit } = buttons("Cancel", "Send offer", dialog);
    const prices = h("fieldset", { class: "cw-fieldset" }, h("legend", { text: "Unit prices" }), ...lines.map((f) => f.wrap));
    form.append(alert, prices, until.wrap, note.wrap, total, row);

    const lineOf = (detail) => {
      const match = /line '([^']*)'/.exec(detail || "");
      return match ? lines.find((f) => f.line.line_id === match[1]) : null;
    };
    const show = (error) => {
      const detail = error.detail || "";
      const code = error.code;
      const line = lineOf(detail);
      if ((code === "invalid_amount" || code === "missing_price") && line) {
        showFieldError(line, code === "missing_price" ? "Enter a unit price." : "Enter a price such as 12.50 (a dot for decimals, no separators).");
      } else if (code === "invalid_valid_until" || (code === "invalid_request" && /valid_until/.test(detail))) {
        const text =
          code === "invalid_valid_until"
            ? detail.replace(/^valid_until/, "The date")
            : "Choose the last day the offer is valid.";
        showFieldError(until, text);
      } else if (code === "invalid_note") {
        showFieldError(note, detail);
      } else {
        alert.textContent = generalError(error);
        if (error.status === 409 || error.status === 410) this.loadSubject();
        return;
      }
      alert.textContent = "Please correct the marked field.";
      const bad = form.querySelector("[aria-invalid=true]");
      if (bad) bad.focus();
    };

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(form, alert);
      const body = { expected_version: quote.version, prices: {}, valid_until: endOfDay(until.control.value) };
      for (const f of lines) body.prices[f.line.line_id] = f.control.value.trim();
      if (note.control.value.trim()) body.note = note.control.value.trim();
      submit.disabled = true;
      try {
        const updated = await this.api("POST", "/v1/quotes/" + encodeURIComponent(quote.id) + "/respond", body);
        this.renderCard("quote", updated);
        dialog.close();
      } catch (error) {
        show(error);
      } finally {
        submit.disabled = false;
      }
    });
    this.panel.append(dialog);
    dialog.showModal();
    (lines[0] ? lines[0].control : until.control).focus();
  };

  // ---- quick actions ----------------------------------------------------------------

  const onHistoryBase = base.onHistory;
  base.onHistory = function () {
    onHistoryBase.call(this);
    if (!this.isSeller() || this.quickBtn) return;
    this.quickBtn = h("button", {
      type: "button",
      class: "cw-quick",
      "aria-label": "Quick actions",
      title: "Quick actions",
    });
    this.quickBtn.append(icon(BOLT));
    this.quickBtn.addEventListener("click", () => this.openQuickActions());
    this.input.before(this.quickBtn);
  };

  const CHOICES = [
    ["propose_replacement", "Propose a replacement item"],
    ["request_photo", "Ask for a photo"],
    ["confirm_delivery_date", "Confirm the delivery date"],
  ];

  base.openQuickActions = function () {
    const clientMsgId = randomId(); // kept across retries of this form: sent at most once
    const { dialog, form, alert } = sheetForm("Quick action", () => this.input.focus());
    const name = "cw-qa-" + clientMsgId.slice(0, 8);
    const radios = CHOICES.map(([value, label], index) => {
      const input = h("input", { type: "radio", name, value, checked: index === 0 });
      return h("label", { class: "cw-choice" }, input, h("span", { text: label }));
    });
    const choice = h("fieldset", { class: "cw-fieldset cw-choices" }, h("legend", { text: "Action" }), ...radios);
    const fields = {
      sku: field("SKU", h("input", { type: "text", maxlength: "64", autocomplete: "off" })),
      name: field("Item name", h("input", { type: "text", maxlength: "200", autocomplete: "off" })),
      date: field("Delivery date", h("input", { type: "date" })),
      note: field("Note (optional)", h("textarea", { rows: "2", maxlength: "500" })),
    };
    const uses = {
      propose_replacement: ["sku", "name", "note"],
      request_photo: ["note"],
      confirm_delivery_date: ["date", "note"],
    };
    const selected = () => choice.querySelector("input[type=radio]:checked").value;
    const sync = () => {
      for (const [key, f] of Object.entries(fields)) f.wrap.hidden = !uses[selected()].includes(key);
    };
    choice.addEventListener("change", () => {
      clearErrors(form, alert);
      sync();
    });
    sync();
    const { row, submit } = buttons("Cancel", "Send", dialog);
    form.append(alert, choice, ...Object.values(fields).map((f) => f.wrap), row);

    const show = (error) => {
      const detail = error.detail || "";
      const key = detail.split(":")[0].trim();
      const f = (error.code === "invalid_action" || error.code === "action_too_large") && fields[key];
      if (f && !f.wrap.hidden) {
        const hints = {
          sku: "Use up to 64 letters, digits, dots, dashes, slashes or underscores.",
          name: "Enter the item's name (up to 200 characters).",
          date: "Choose a date.",
          note: "Up to 500 characters, not only spaces.",
        };
        showFieldError(f, hints[key]);
        alert.textContent = "Please correct the marked field.";
        f.control.focus();
        return;
      }
      alert.textContent = generalError(error);
    };

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(form, alert);
      const action = { action: selected() };
      for (const key of uses[action.action]) {
        const value = fields[key].control.value.trim();
        if (key !== "note" || value) action[key] = value;
      }
      submit.disabled = true;
      try {
        await this.api("POST", "/v1/conversations/" + encodeURIComponent(this.cid) + "/actions", {
          client_msg_id: clientMsgId,
          action,
        });
        dialog.close(); // the card arrives over the WebSocket like any message
      } catch (error) {
        show(error);
      } finally {
        submit.disabled = false;
      }
    });
    this.panel.append(dialog);
    dialog.showModal();
    form.querySelector("input[type=radio]:checked").focus();
  };
})(window);
