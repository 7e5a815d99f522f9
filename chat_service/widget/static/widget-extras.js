/* Widget extras: the order/quote context card with quote actions, and photos
 * (attach with preview and upload progress, thumbnails, full-size viewer).
 * Load after widget.js. Everything user-supplied goes in via textContent. */
(function (global) {
  "use strict";
  const { Widget, h, icon, randomId } = global.ChatWidget;
  const base = Widget.prototype;
  const UPLOAD_RETRY_MS = 2000;
  const OPEN_QUOTE = new Set(["responded", "countered"]);

  const CAMERA =
    "M9 3 7.2 5H4a2 2 0 0 0-2 2v11a2 2 0 0 0 2 2h16a2 2 0 0 0 2-2V7a2 2 0 0 0-2-2h-3.2L15 3H9Zm3 " +
    "5a4.5 4.5 0 1 1 0 9 4.5 4.5 0 0 1 0-9Zm0 2a2.5 2.5 0 1 0 0 5 2.5 2.5 0 0 0 0-5Z";

  // ---- context card ----------------------------------------------------------

  const buildBase = base.build;
  base.build = function () {
    buildBase.call(this);
    this.fileInput = h("input", { type: "file", accept: "image/*", hidden: true, tabindex: "-1" });
    this.attachBtn = h("button", {
      type: "button",
      class: "cw-attach",
      "aria-label": "Attach a photo",
      title: "Attach a photo",
    });
    this.attachBtn.append(icon(CAMERA));
    this.form.prepend(this.attachBtn, this.fileInput);
    this.attachBtn.addEventListener("click", () => this.fileInput.click());
    this.fileInput.addEventListener("change", () => {
      for (const file of this.fileInput.files) this.attach(file);
      this.fileInput.value = "";
    });
    this.links = new Map(); // attachment id -> {links, until}
  };

  base.onHistory = function () {
    this.loadSubject();
  };

  const onMessageBase = base.onMessage;
  base.onMessage = function (message) {
    onMessageBase.call(this, message);
    // Order and quote events arrive as system messages: refresh the live status.
    if (message.kind === "system") {
      clearTimeout(this.subjectTimer);
      this.subjectTimer = setTimeout(() => this.loadSubject(), 200);
    }
  };

  base.loadSubject = async function () {
    const c = this.conversation;
    if (!c || (c.subject_type !== "order" && c.subject_type !== "quote")) return;
    const path = (c.subject_type === "order" ? "/v1/orders/" : "/v1/quotes/") + encodeURIComponent(c.subject_id);
    try {
      const subject = await this.api("GET", path);
      this.renderCard(c.subject_type, subject);
    } catch (_) {
      this.cardEl.hidden = true; // no order/quote record for this conversation (yet)
    }
  };

  function money(amount, currency) {
    const value = Number(amount);
    try {
      return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(value);
    } catch (_) {
      return amount + " " + currency;
    }
  }

  base.money = money;

  base.renderCard = function (type, subject) {
    // A live refresh must not drop the keyboard focus of a card button.
    const active = document.activeElement;
    const refocus = active && active !== this.cardEl && this.cardEl.contains(active) ? active.classList[0] : null;
    const lines = subject.lines || [];
    const items = lines.reduce((n, line) => n + (line.quantity || 0), 0);
    const parts = [];
    const status = h("span", { class: "cw-status", text: String(subject.status).replace(/_/g, " ") });
    if (type === "order") {
      parts.push(h("h3", { text: "Order #" + subject.order_id }));
      parts.push(h("p", {}, "Status: ", status));
      parts.push(h("p", { text: items + " item(s) · " + money(subject.subtotal, subject.currency) }));
      if (subject.shipments && subject.shipments.length) {
        parts.push(h("p", { text: subject.shipments.length + " shipment(s)" }));
      }
    } else {
      const revisions = subject.revisions || [];
      const latest = revisions[revisions.length - 1];
      parts.push(h("h3", { text: "Quote " + subject.id }));
      parts.push(h("p", {}, "Status: ", status));
      const offer = latest ? " · " + money(latest.subtotal, subject.currency) + " (revision " + latest.number + ")" : "";
      const summary = items + " item(s)" + offer;
      parts.push(h("p", { class: "cw-quote-offer", text: summary }));
      if (latest && latest.valid_until) {
        parts.push(h("p", { text: "Valid until " + new Date(latest.valid_until).toLocaleString(this.locale) }));
      }
      const buyer = subject.buyer && subject.buyer.user_id === this.me;
      if (buyer && latest && latest.author === "seller" && OPEN_QUOTE.has(subject.status)) {
        const accept = h("button", { type: "button", class: "cw-accept", text: "Accept offer" });
        const decline = h("button", { type: "button", class: "cw-decline", text: "Decline" });
        accept.addEventListener("click", () => this.quoteAction(subject, "accept", { revision: latest.number }));
        decline.addEventListener("click", () => this.quoteAction(subject, "decline", {}));
        parts.push(h("div", { class: "cw-card-actions" }, accept, decline));
      }
    }
    this.cardEl.setAttribute("aria-label", type === "order" ? "Order summary" : "Quote summary");
    this.cardEl.replaceChildren(...parts);
    this.cardEl.hidden = false;
    this.subject = { type, record: subject };
    this.onCard(type, subject);
    const again = refocus && this.cardEl.querySelector("." + refocus);
    if (again) again.focus();
  };

  base.onCard = function () {
    /* extension point: the seller's quote form (widget-seller.js) */
  };

  base.quoteAction = async function (quote, action, body) {
    for (const button of this.cardEl.querySelectorAll("button")) button.disabled = true;
    try {
      const updated = await this.api(
        "POST",
        "/v1/quotes/" + encodeURIComponent(quote.id) + "/" + action,
        Object.assign({ expected_version: quote.version }, body),
      );
      this.renderCard("quote", updated);
    } catch (error) {
      this.loadSubject(); // the quote moved on: show what it is now
    }
  };

  // A buyer answers the seller's "ask for a photo" right from the card.
  base.actionButtons = function (m) {
    if (!m.action || m.action.action !== "request_photo" || m.sender_id === this.me) return null;
    const button = h("button", { type: "button", class: "cw-card-btn", text: "Send a photo" });
    button.addEventListener("click", () => this.fileInput.click());
    return h("div", { class: "cw-card-actions" }, button);
  };

  // ---- photos -------------------------------------------------------------------

  /** Optimistic photo message: preview at once, upload (retried with the same
   * upload id, so at most one copy is stored), then send like a text. */
  base.attach = function (file) {
    const preview = URL.createObjectURL(file);
    const id = this.queue({ previews: [preview], uploading: 0 });
    this.upload(id, randomId(), file);
  };

  base.upload = function (id, uploadId, file) {
    const entry = this.outbox.get(id);
    if (!entry || this.stopped) return;
    const xhr = new XMLHttpRequest();
    const path = "/v1/conversations/" + encodeURIComponent(this.cid) + "/attachments/" + uploadId;
    xhr.open("PUT", this.base + path);
    xhr.setRequestHeader("Authorization", "Bearer " + this.token);
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) {
        entry.uploading = Math.round((100 * event.loaded) / event.total);
        this.render();
      }
    };
    const retry = () => setTimeout(() => this.upload(id, uploadId, file), UPLOAD_RETRY_MS);
    xhr.onerror = retry;
    xhr.onload = () => {
      if (xhr.status === 200 || xhr.status === 201) {
        const attachment = JSON.parse(xhr.responseText);
        this.links.set(attachment.id, { links: attachment.links, until: Date.parse(attachment.links_expire_at) });
        entry.attachments = [attachment.id];
        delete entry.uploading;
        this.render();
        this.transmit(id);
      } else if (xhr.status >= 500 || xhr.status === 429 || xhr.status === 0) {
        retry();
      } else {
        let code = "upload_failed";
        try {
          code = JSON.parse(xhr.responseText).code || code;
        } catch (_) {
          /* keep the generic code */
        }
        entry.failed = code;
        delete entry.uploading;
        this.render();
      }
    };
    xhr.send(file);
  };

  const transmitBase = base.transmit;
  base.transmit = function (id) {
    const entry = this.outbox.get(id);
    if (entry && entry.uploading !== undefined) return; // sent once the upload is stored
    transmitBase.call(this, id);
  };

  const renderBase = base.render;
  base.render = function (forceScroll) {
    renderBase.call(this, forceScroll);
    for (const [id, entry] of this.outbox) {
      if (entry.uploading === undefined || entry.failed) continue;
      const node = this.nodes.get("p" + id);
      if (node) node.querySelector(".cw-state").textContent = "Uploading " + entry.uploading + "%";
    }
  };

  base.attachmentLinks = async function (attachmentId) {
    const known = this.links.get(attachmentId);
    if (known && known.until - Date.now() > 30000) return known.links;
    const found = await this.api(
      "GET",
      "/v1/conversations/" + encodeURIComponent(this.cid) + "/attachments/" + encodeURIComponent(attachmentId),
    );
    this.links.set(attachmentId, { links: found.links, until: Date.parse(found.links_expire_at) });
    return found.links;
  };

  base.photosNode = function (m) {
    const previews = m.previews || [];
    const attachments = m.attachments || [];
    if (!previews.length && !attachments.length) return null;
    const box = h("div", { class: "cw-photos" });
    const alt = "Photo from " + this.nameOf(m.sender_id);
    for (const src of previews) box.append(h("img", { src, alt, class: "cw-thumb" }));
    for (const attachment of attachments) {
      const thumb = attachment.renditions && attachment.renditions.thumb;
      const img = h("img", {
        alt,
        class: "cw-thumb",
        width: thumb ? thumb.width : null,
        height: thumb ? thumb.height : null,
        "data-attachment-id": attachment.id,
      });
      const button = h("button", { type: "button", "aria-label": "Open " + alt.toLowerCase() }, img);
      button.addEventListener("click", () => this.openViewer(attachment.id, alt));
      box.append(button);
      this.attachmentLinks(attachment.id).then(
        (links) => img.setAttribute("src", links.thumb),
        () => img.setAttribute("alt", alt + " (not available)"),
      );
    }
    return box;
  };

  base.openViewer = async function (attachmentId, alt) {
    const links = await this.attachmentLinks(attachmentId);
    const close = h("button", { type: "button", class: "cw-viewer-close", text: "Close" });
    const dialog = h(
      "dialog",
      { class: "cw-viewer", "aria-label": alt },
      h("img", { src: links.display || links.full, alt }),
      close,
    );
    close.addEventListener("click", () => dialog.close());
    dialog.addEventListener("click", (event) => {
      if (event.target === dialog) dialog.close();
    });
    dialog.addEventListener("close", () => dialog.remove());
    this.panel.append(dialog);
    dialog.showModal();
    close.focus();
  };
})(window);
