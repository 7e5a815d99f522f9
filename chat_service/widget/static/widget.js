/* Marketplace chat widget: plain JavaScript, no build step, no dependencies.
 *
 *   ChatWidget.mount(element, {baseUrl, tenantId, token, conversationId,
 *                              getToken?, locale?})  -> {destroy()}
 *
 * The token travels only in the first WebSocket frame and in Authorization
 * headers, never in a URL. Every piece of user content is inserted with
 * textContent / attributes, never as HTML. Protocol: docs/protocol.md.
 */
(function (global) {
  "use strict";

  const BACKOFF_FIRST_MS = 500;
  const BACKOFF_MAX_MS = 15000;
  const ACK_TIMEOUT_MS = 8000;
  const PING_EVERY_MS = 25000;
  const PONG_TIMEOUT_MS = 10000;
  const TYPING_SEND_EVERY_MS = 3000;
  const TYPING_IDLE_MS = 4000;
  const TYPING_SHOW_MS = 6000;
  const HISTORY_PAGE = 50;
  const ACTION_TITLES = {
    propose_replacement: "Replacement proposed",
    request_photo: "Photo requested",
    confirm_delivery_date: "Delivery date confirmed",
  };

  function randomId() {
    const bytes = new Uint8Array(12);
    global.crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  /** The token's ``sub``, only to tell own messages apart before ``ready``. */
  function userOfToken(token) {
    try {
      const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return JSON.parse(atob(part)).sub || null;
    } catch (_) {
      return null;
    }
  }

  function h(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child !== null && child !== undefined) node.append(child);
    }
    return node;
  }

  /** A decorative 24x24 SVG icon (hidden from screen readers) of one path. */
  function icon(pathData) {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "22");
    svg.setAttribute("height", "22");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    const path = document.createElementNS(ns, "path");
    path.setAttribute("fill", "currentColor");
    path.setAttribute("d", pathData);
    svg.append(path);
    return svg;
  }

  class ChatWidget {
    constructor(root, options) {
      for (const name of ["baseUrl", "tenantId", "token", "conversationId"]) {
        if (!options[name]) throw new Error("ChatWidget: option " + name + " is required");
      }
      this.root = root;
      this.base = String(options.baseUrl).replace(/\/+$/, "");
      this.tenantId = options.tenantId;
      this.token = options.token;
      this.getToken = options.getToken || null;
      this.cid = options.conversationId;
      this.locale = options.locale || undefined;
      this.me = userOfToken(this.token);
      this.conversation = null;
      this.messages = new Map(); // seq -> message object (text/system entries)
      this.lastSeq = 0; // highest seq seen in message frames or history
      this.outbox = new Map(); // client_msg_id -> {text, attachments, acked, seq, timer}
      this.changes = new Map(); // client_msg_id -> {frame, timer, revert}: edits and deletes
      this.nodes = new Map(); // "s<seq>" or "p<client_msg_id>" -> <li>
      this.readMarks = {}; // user_id -> seq
      this.presence = {}; // user_id -> online/away
      this.typingUsers = new Map(); // user_id -> timer
      this.sentReadSeq = 0;
      this.ws = null;
      this.ready = false;
      this.subscribed = false;
      this.attempt = 0;
      this.reconnectTimer = null;
      this.pingTimer = null;
      this.pongTimer = null;
      this.typingSentAt = 0;
      this.typingIdleTimer = null;
      this.stopped = false;
      this.fatal = null;
      this.historyLoaded = false;
      this.build();
      this.onOnline = () => this.reconnectNow();
      this.onOffline = () => this.dropConnection("offline");
      this.onVisible = () => this.markRead();
      global.addEventListener("online", this.onOnline);
      global.addEventListener("offline", this.onOffline);
      document.addEventListener("visibilitychange", this.onVisible);
      this.setStatus(navigator.onLine === false ? "offline" : "connecting");
      this.start();
    }

    // ---- DOM ---------------------------------------------------------------

    build() {
      this.titleEl = h("h2", { class: "cw-title", id: "cw-title-" + this.cid, text: "Chat" });
      this.peerDot = h("span", { class: "cw-dot", "aria-hidden": "true" });
      this.peerEl = h("p", { class: "cw-peer", "data-presence": "away" }, this.peerDot, h("span"));
      this.cardEl = h("div", { class: "cw-card", role: "region", hidden: true });
      this.bannerEl = h("div", { class: "cw-banner", role: "status", "aria-live": "polite" });
      // The log region wraps the list, so the items keep their list semantics.
      this.listEl = h("ol", { class: "cw-list", tabindex: "0", "aria-label": "Message list" });
      this.logEl = h(
        "div",
        { class: "cw-log", role: "log", "aria-live": "polite", "aria-label": "Messages" },
        this.listEl,
      );
      this.olderBtn = h("button", { type: "button", class: "cw-older-btn", text: "Load earlier messages" });
      this.olderBtn.addEventListener("click", () => this.loadOlder());
      this.olderItem = h("li", { class: "cw-older" }, this.olderBtn);
      this.newBtn = h("button", { type: "button", class: "cw-new", hidden: true, text: "New messages ↓" });
      this.newBtn.addEventListener("click", () => {
        this.listEl.scrollTop = this.listEl.scrollHeight;
        this.newBtn.hidden = true;
      });
      this.typingEl = h("p", { class: "cw-typing", "aria-live": "polite" });
      this.input = h("textarea", {
        class: "cw-input",
        rows: "1",
        "aria-label": "Message",
        placeholder: "Write a message",
        maxlength: "4000",
      });
      this.sendBtn = h("button", { type: "submit", class: "cw-send", text: "Send" });
      this.form = h("form", { class: "cw-compose" }, this.input, this.sendBtn);
      this.panel = h(
        "section",
        { class: "cw", "aria-labelledby": this.titleEl.id },
        h("header", { class: "cw-head" }, this.titleEl, this.peerEl),
        this.cardEl,
        this.bannerEl,
        this.logEl,
        this.newBtn,
        this.typingEl,
        this.form,
      );
      this.root.replaceChildren(this.panel);
      this.form.addEventListener("submit", (event) => {
        event.preventDefault();
        this.submit();
      });
      this.input.addEventListener("keydown", (event) => {
        if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
          event.preventDefault();
          this.submit();
        }
      });
      this.input.addEventListener("input", () => this.userTyping());
      this.listEl.addEventListener("scroll", () => {
        if (!this.nearBottom()) return;
        this.newBtn.hidden = true;
        this.markRead();
      });
    }

    setStatus(status) {
      this.status = status;
      this.panel.dataset.status = status;
      const texts = {
        connecting: "Connecting…",
        offline: "You are offline. Messages will be sent when you are back online.",
        reconnecting: "Connection lost. Reconnecting…",
        online: "",
      };
      const text = this.fatal || texts[status] || "";
      this.bannerEl.textContent = text;
      this.bannerEl.hidden = !text;
    }

    // ---- REST --------------------------------------------------------------

    async api(method, path, body, headers) {
      const init = {
        method,
        headers: Object.assign({ Authorization: "Bearer " + this.token }, headers || {}),
        credentials: "omit",
        cache: "no-store",
      };
      if (body !== undefined) {
        if (body instanceof Blob) init.body = body;
        else {
          init.body = JSON.stringify(body);
          init.headers["Content-Type"] = "application/json";
        }
      }
      let response = await fetch(this.base + path, init);
      if (response.status === 401 && this.getToken) {
        await this.refreshToken();
        init.headers.Authorization = "Bearer " + this.token;
        response = await fetch(this.base + path, init);
      }
      if (!response.ok) {
        const error = new Error("HTTP " + response.status);
        error.status = response.status;
        try {
          const problem = await response.json(); // RFC 9457 problem details
          error.code = problem.code;
          error.detail = problem.detail;
        } catch (_) {
          /* no body: the status is all we know */
        }
        throw error;
      }
      return response.json();
    }

    async refreshToken() {
      if (!this.getToken) throw new Error("token expired");
      this.token = await this.getToken();
    }

    async loadHistory() {
      const cid = encodeURIComponent(this.cid);
      this.conversation = await this.api("GET", "/v1/conversations/" + cid);
      this.titleEl.textContent = this.conversation.title || "Chat";
      for (const p of this.conversation.participants) {
        if (p.last_read_seq) this.readMarks[p.user_id] = p.last_read_seq;
      }
      const before = this.conversation.last_seq + 1;
      const page = await this.api(
        "GET",
        "/v1/conversations/" + cid + "/messages?before_seq=" + before + "&limit=" + HISTORY_PAGE,
      );
      for (const message of page.messages) this.apply(message);
      this.notePage(page);
      this.historyLoaded = true;
      this.render();
      this.onHistory();
    }

    notePage(page) {
      this.hasMore = page.has_more;
      for (const m of page.messages) {
        if (!this.oldestSeq || m.seq < this.oldestSeq) this.oldestSeq = m.seq;
      }
    }

    async loadOlder() {
      this.olderBtn.disabled = true;
      const list = this.listEl;
      const fromBottom = list.scrollHeight - list.scrollTop;
      try {
        const page = await this.api(
          "GET",
          "/v1/conversations/" + encodeURIComponent(this.cid) + "/messages?before_seq=" +
            this.oldestSeq + "&limit=" + HISTORY_PAGE,
        );
        for (const message of page.messages) this.apply(message);
        this.notePage(page);
        this.render();
        list.scrollTop = list.scrollHeight - fromBottom; // keep the reader's place
      } catch (_) {
        /* offline or refused: the button stays, the user can try again */
      } finally {
        this.olderBtn.disabled = false;
      }
    }

    onHistory() {
      /* extension point: context card, photos (see widget-extras.js) */
    }

    // ---- connection ----------------------------------------------------------

    async start() {
      if (this.stopped || this.fatal) return;
      if (navigator.onLine === false) {
        this.setStatus("offline");
        return;
      }
      try {
        if (!this.historyLoaded) await this.loadHistory();
      } catch (error) {
        if (error.status === 401) {
          this.fail("Your session has ended. Reload the page to continue.");
          return;
        }
        if (error.status === 403 || error.status === 404) {
          this.fail("This conversation is not available.");
          return;
        }
        this.scheduleReconnect();
        return;
      }
      this.connect();
    }

    connect() {
      const url = this.base.replace(/^http/, "ws") + "/v1/ws?tenant=" + encodeURIComponent(this.tenantId);
      const ws = new WebSocket(url);
      this.ws = ws;
      this.ready = false;
      this.subscribed = false;
      ws.onopen = () => ws.send(JSON.stringify({ type: "auth", token: this.token, ref: "auth" }));
      ws.onmessage = (event) => {
        if (ws !== this.ws) return;
        let frame;
        try {
          frame = JSON.parse(event.data);
        } catch (_) {
          return;
        }
        this.handle(frame);
      };
      ws.onclose = (event) => {
        if (ws !== this.ws) return;
        this.onClosed(event.code, event.reason);
      };
    }

    async onClosed(code, reason) {
      this.ws = null;
      this.ready = false;
      this.subscribed = false;
      this.presence = {}; // unknown until the next "subscribed"
      this.renderPeer();
      clearInterval(this.pingTimer);
      clearTimeout(this.pongTimer);
      for (const entry of this.outbox.values()) clearTimeout(entry.timer);
      for (const entry of this.changes.values()) clearTimeout(entry.timer);
      if (this.stopped) return;
      const expired = code === 4001 || reason === "token_expired";
      if (expired || (code === 1008 && reason === "token_invalid")) {
        if (!this.getToken) {
          this.fail("Your session has ended. Reload the page to continue.");
          return;
        }
        try {
          await this.refreshToken();
        } catch (_) {
          this.fail("Your session has ended. Reload the page to continue.");
          return;
        }
      } else if (code === 1008 && reason !== "too_many_connections") {
        this.fail("Chat is not available (" + (reason || "refused") + ").");
        return;
      }
      this.scheduleReconnect();
    }

    scheduleReconnect() {
      if (this.stopped || this.fatal) return;
      clearTimeout(this.reconnectTimer);
      this.setStatus(navigator.onLine === false ? "offline" : "reconnecting");
      if (navigator.onLine === false) return; // the "online" event restarts us
      const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** this.attempt);
      const delay = ceiling / 2 + Math.random() * (ceiling / 2); // jitter
      this.attempt += 1;
      this.reconnectTimer = setTimeout(() => this.start(), delay);
    }

    reconnectNow() {
      clearTimeout(this.reconnectTimer);
      this.attempt = 0;
      if (!this.ws) this.start();
    }

    dropConnection(status) {
      this.setStatus(status);
      const ws = this.ws;
      if (ws) {
        this.ws = null;
        ws.onclose = null;
        ws.close();
        this.onClosed(1000, "client");
      }
    }

    fail(text) {
      this.fatal = text;
      this.setStatus("failed");
      this.sendBtn.disabled = true;
    }

    send(frame) {
      if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
      this.ws.send(JSON.stringify(frame));
      return true;
    }

    heartbeat() {
      clearInterval(this.pingTimer);
      this.pingTimer = setInterval(() => {
        if (!this.send({ type: "ping", ref: "hb" })) return;
        clearTimeout(this.pongTimer);
        this.pongTimer = setTimeout(() => this.dropConnection("reconnecting"), PONG_TIMEOUT_MS);
      }, PING_EVERY_MS);
    }

    handle(frame) {
      switch (frame.type) {
        case "ready":
          this.ready = true;
          this.me = frame.user_id;
          this.panel.dataset.user = frame.user_id;
          this.send({ type: "subscribe", conversation_id: this.cid, after_seq: this.lastSeq, ref: "sub" });
          this.heartbeat();
          break;
        case "subscribed":
          this.subscribed = true;
          this.attempt = 0;
          Object.assign(this.readMarks, frame.read || {});
          Object.assign(this.presence, frame.presence || {});
          this.setStatus("online");
          for (const id of this.outbox.keys()) this.transmit(id);
          for (const id of this.changes.keys()) this.transmitChange(id);
          this.renderPeer();
          this.render();
          this.markRead();
          break;
        case "message":
          if (frame.conversation_id === this.cid) this.onMessage(frame.message);
          break;
        case "ack":
          if (frame.client_msg_id) this.onAck(frame);
          break;
        case "read":
          if (frame.seq > (this.readMarks[frame.user_id] || 0)) {
            this.readMarks[frame.user_id] = frame.seq;
            this.render();
          }
          break;
        case "typing":
          this.onTyping(frame.user_id, frame.state);
          break;
        case "presence":
          if (frame.user_id !== this.me) {
            this.presence[frame.user_id] = frame.status;
            if (frame.status === "away") this.onTyping(frame.user_id, "stop");
            this.renderPeer();
          }
          break;
        case "participants":
          this.reloadConversation();
          break;
        case "pong":
          clearTimeout(this.pongTimer);
          break;
        case "error":
          this.onError(frame);
          break;
      }
    }

    onError(frame) {
      if (frame.code === "resync_failed") {
        this.send({ type: "subscribe", conversation_id: this.cid, after_seq: this.lastSeq, ref: "sub" });
        return;
      }
      const change = frame.ref && this.changes.get(frame.ref);
      const entry = change || (frame.ref && this.outbox.get(frame.ref));
      if (!entry) return;
      clearTimeout(entry.timer);
      if (frame.code === "rate_limited" || frame.code === "unavailable" || frame.code === "internal_error") {
        const wait = Math.max(1, frame.retry_after || 1) * 1000;
        const again = change ? () => this.transmitChange(frame.ref) : () => this.transmit(frame.ref);
        entry.timer = setTimeout(again, wait);
        return;
      }
      if (change) {
        // Refused for good (e.g. deleted elsewhere): undo what we showed.
        this.changes.delete(frame.ref);
        change.revert();
        this.render();
        return;
      }
      entry.failed = frame.code; // permanent: show it, let the user remove it
      this.render();
    }

    async reloadConversation() {
      try {
        this.conversation = await this.api("GET", "/v1/conversations/" + encodeURIComponent(this.cid));
        this.renderPeer();
      } catch (_) {
        /* keep the old participant list */
      }
    }

    // ---- messages ------------------------------------------------------------

    apply(message) {
      if (message.seq > this.lastSeq) this.lastSeq = message.seq;
      if (message.kind === "edit" || message.kind === "delete") {
        const target = this.messages.get(message.target_seq);
        // Our own optimistic change already shows this: keep the node (and focus).
        const shown =
          target &&
          (message.kind === "edit" ? !target.deleted && target.text === message.text : target.deleted);
        if (target && shown && this.nodes.has("s" + target.seq)) {
          if (message.kind === "edit") target.edited_at = message.created_at;
          return;
        }
        if (target) {
          if (message.kind === "edit" && !target.deleted) {
            target.text = message.text;
            target.edited_at = message.created_at;
          } else if (message.kind === "delete") {
            target.text = null;
            target.deleted = true;
            target.attachments = [];
          }
          this.nodes.delete("s" + target.seq);
        }
        return;
      }
      if (this.messages.has(message.seq)) return; // already applied: never twice
      this.messages.set(message.seq, message);
      if (message.sender_id === this.me && this.outbox.has(message.client_msg_id)) {
        clearTimeout(this.outbox.get(message.client_msg_id).timer);
        this.outbox.delete(message.client_msg_id);
        this.nodes.delete("p" + message.client_msg_id);
      }
    }

    onMessage(message) {
      if (message.seq <= this.lastSeq && this.messages.has(message.seq)) return;
      if (message.sender_id && message.sender_id !== this.me) this.onTyping(message.sender_id, "stop");
      const reading = this.nearBottom();
      this.apply(message);
      this.render();
      if (!reading && message.sender_id !== this.me) this.newBtn.hidden = false;
      this.markRead();
    }

    onAck(frame) {
      const change = this.changes.get(frame.client_msg_id);
      if (change) {
        clearTimeout(change.timer);
        this.changes.delete(frame.client_msg_id);
        return;
      }
      const entry = this.outbox.get(frame.client_msg_id);
      if (!entry) return;
      clearTimeout(entry.timer);
      entry.acked = true;
      entry.seq = frame.seq;
      entry.created_at = frame.created_at;
      this.nodes.delete("p" + frame.client_msg_id);
      this.render();
    }

    submit() {
      const text = this.input.value.trim();
      if (!text || this.fatal) return;
      this.queue({ text });
      this.input.value = "";
      this.stopTyping();
      this.input.focus();
    }

    /** Optimistic send: shown at once, retried with the same key until acked. */
    queue(content) {
      const id = randomId();
      this.outbox.set(id, {
        text: content.text || null,
        attachments: content.attachments || [],
        previews: content.previews || [],
        acked: false,
        timer: null,
        at: new Date().toISOString(),
      });
      if ("uploading" in content) this.outbox.get(id).uploading = content.uploading;
      this.render(true);
      this.transmit(id);
      return id;
    }

    transmit(id) {
      const entry = this.outbox.get(id);
      if (!entry || entry.acked || entry.failed || !this.subscribed) return;
      const frame = { type: "send", conversation_id: this.cid, client_msg_id: id, ref: id };
      if (entry.text) frame.text = entry.text;
      if (entry.attachments.length) frame.attachments = entry.attachments;
      clearTimeout(entry.timer);
      if (this.send(frame)) {
        entry.timer = setTimeout(() => this.transmit(id), ACK_TIMEOUT_MS);
      }
    }

    // ---- editing and deleting your own messages -----------------------------------

    /** Edit or delete (optimistic): shown at once, resent with the same key until
     * acked; a permanent refusal undoes it. */
    change(frame, revert) {
      const id = randomId();
      Object.assign(frame, { conversation_id: this.cid, client_msg_id: id, ref: id });
      this.changes.set(id, { frame, timer: null, revert });
      this.transmitChange(id);
    }

    transmitChange(id) {
      const entry = this.changes.get(id);
      if (!entry || !this.subscribed) return;
      clearTimeout(entry.timer);
      if (this.send(entry.frame)) entry.timer = setTimeout(() => this.transmitChange(id), ACK_TIMEOUT_MS);
    }

    editMessage(m, text) {
      const before = { text: m.text, edited_at: m.edited_at };
      m.text = text;
      m.edited_at = new Date().toISOString();
      this.refreshNode(m, ".cw-opts");
      this.change({ type: "edit", seq: m.seq, text }, () => {
        Object.assign(m, before);
        this.nodes.delete("s" + m.seq);
      });
    }

    deleteMessage(m) {
      const before = { text: m.text, deleted: m.deleted, attachments: m.attachments };
      Object.assign(m, { text: null, deleted: true, attachments: [] });
      this.refreshNode(m, null);
      this.change({ type: "delete", seq: m.seq }, () => {
        Object.assign(m, before);
        this.nodes.delete("s" + m.seq);
      });
    }

    /** Rebuild one message's node; keep keyboard focus on it (or the composer). */
    refreshNode(m, focusSelector) {
      this.nodes.delete("s" + m.seq);
      this.render();
      const node = this.nodes.get("s" + m.seq);
      const target = (focusSelector && node && node.querySelector(focusSelector)) || this.input;
      target.focus();
    }

    optionsNode(m) {
      const toggle = h("button", {
        type: "button",
        class: "cw-opts",
        "aria-label": "Options for your message",
        "aria-expanded": "false",
        text: "⋯",
      });
      const menu = h("span", { class: "cw-opts-menu", hidden: true });
      const close = () => {
        menu.hidden = true;
        toggle.setAttribute("aria-expanded", "false");
      };
      const showChoices = () => {
        const buttons = [];
        if (m.text) {
          const edit = h("button", { type: "button", text: "Edit" });
          edit.addEventListener("click", () => this.openEditor(m));
          buttons.push(edit);
        }
        const remove = h("button", { type: "button", class: "cw-danger", text: "Delete" });
        remove.addEventListener("click", () => confirmDelete());
        buttons.push(remove);
        menu.replaceChildren(...buttons);
      };
      const confirmDelete = () => {
        const yes = h("button", { type: "button", class: "cw-danger", text: "Delete message" });
        const no = h("button", { type: "button", text: "Keep" });
        yes.addEventListener("click", () => this.deleteMessage(m));
        no.addEventListener("click", () => {
          showChoices();
          menu.firstElementChild.focus();
        });
        menu.replaceChildren(h("span", { class: "cw-confirm", text: "Delete for everyone?" }), yes, no);
        yes.focus();
      };
      toggle.addEventListener("click", () => {
        const open = menu.hidden;
        if (open) showChoices();
        menu.hidden = !open;
        toggle.setAttribute("aria-expanded", String(open));
        if (open) menu.firstElementChild.focus();
      });
      menu.addEventListener("keydown", (event) => {
        if (event.key === "Escape") {
          event.stopPropagation();
          close();
          toggle.focus();
        }
      });
      return h("span", { class: "cw-opts-box" }, toggle, menu);
    }

    openEditor(m) {
      const node = this.nodes.get("s" + m.seq);
      if (!node) return;
      const field = h("textarea", { class: "cw-edit-input", "aria-label": "Edit message", rows: "2", maxlength: "4000" });
      field.value = m.text || "";
      const save = h("button", { type: "submit", class: "cw-save", text: "Save" });
      const cancel = h("button", { type: "button", text: "Cancel" });
      const form = h("form", { class: "cw-edit" }, field, h("div", { class: "cw-edit-actions" }, cancel, save));
      const done = () => this.refreshNode(m, ".cw-opts");
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        const text = field.value.trim();
        if (!text || text === m.text) done();
        else this.editMessage(m, text);
      });
      field.addEventListener("keydown", (event) => {
        if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
          event.preventDefault();
          form.requestSubmit();
        } else if (event.key === "Escape") {
          event.preventDefault();
          done();
        }
      });
      cancel.addEventListener("click", done);
      node.querySelector(".cw-text").replaceWith(form);
      const box = node.querySelector(".cw-opts-box");
      if (box) box.hidden = true;
      field.focus();
      field.setSelectionRange(field.value.length, field.value.length);
    }

    // ---- typing, read, presence ------------------------------------------------

    userTyping() {
      const now = Date.now();
      if (this.input.value && now - this.typingSentAt > TYPING_SEND_EVERY_MS && this.subscribed) {
        this.typingSentAt = now;
        this.send({ type: "typing", conversation_id: this.cid, state: "start" });
      }
      clearTimeout(this.typingIdleTimer);
      this.typingIdleTimer = setTimeout(() => this.stopTyping(), TYPING_IDLE_MS);
    }

    stopTyping() {
      clearTimeout(this.typingIdleTimer);
      if (this.typingSentAt) {
        this.typingSentAt = 0;
        this.send({ type: "typing", conversation_id: this.cid, state: "stop" });
      }
    }

    onTyping(userId, state) {
      if (userId === this.me) return;
      clearTimeout(this.typingUsers.get(userId));
      if (state === "start") {
        this.typingUsers.set(userId, setTimeout(() => this.onTyping(userId, "stop"), TYPING_SHOW_MS));
      } else {
        this.typingUsers.delete(userId);
      }
      const names = [...this.typingUsers.keys()].map((u) => this.nameOf(u));
      this.typingEl.textContent = names.length ? names.join(", ") + " is typing…" : "";
    }

    markRead() {
      // Only what the user can have seen: page visible, list scrolled to the end.
      if (!this.subscribed || document.visibilityState === "hidden" || !this.nearBottom()) return;
      let newest = 0;
      for (const m of this.messages.values()) {
        if (m.sender_id !== this.me && m.seq > newest) newest = m.seq;
      }
      if (newest > this.sentReadSeq) {
        this.sentReadSeq = newest;
        this.send({ type: "read", conversation_id: this.cid, seq: newest, ref: "read" });
      }
    }

    nameOf(userId) {
      const people = (this.conversation && this.conversation.participants) || [];
      const person = people.find((p) => p.user_id === userId);
      return person ? person.display_name : userId;
    }

    others() {
      const people = (this.conversation && this.conversation.participants) || [];
      return people.filter((p) => p.user_id !== this.me);
    }

    renderPeer() {
      const peer = this.others()[0];
      if (!peer) return;
      let status = this.presence[peer.user_id] === "online" ? "online" : "away";
      if (!this.subscribed) status = "unknown"; // we cannot tell while disconnected
      this.peerEl.dataset.presence = status;
      this.peerEl.lastChild.textContent = peer.display_name + (status === "unknown" ? "" : " · " + status);
    }

    // ---- rendering -------------------------------------------------------------

    render(forceScroll) {
      const list = this.listEl;
      const nearBottom = this.nearBottom();
      const items = [];
      let lastDay = null;
      const readByOthers = Math.max(0, ...this.others().map((p) => this.readMarks[p.user_id] || 0));
      const ordered = [...this.messages.values()].sort((a, b) => a.seq - b.seq);
      let lastMine = null;
      for (const m of ordered) if (m.sender_id === this.me) lastMine = m.seq;
      const add = (at, node) => {
        const day = new Date(at).toDateString();
        if (day !== lastDay) {
          lastDay = day;
          let separator = this.nodes.get("d" + day);
          if (!separator) {
            separator = this.daySeparator(at);
            this.nodes.set("d" + day, separator);
          }
          items.push(separator);
        }
        items.push(node);
      };
      for (const m of ordered) {
        const key = "s" + m.seq;
        let node = this.nodes.get(key);
        if (!node) {
          node = this.messageNode(m);
          this.nodes.set(key, node);
        }
        if (m.sender_id === this.me) {
          const state = m.seq <= readByOthers ? "Seen" : "Sent";
          const status = node.querySelector(".cw-state");
          status.textContent = m.seq === lastMine ? state : "";
          node.dataset.state = state.toLowerCase();
        }
        add(m.created_at, node);
      }
      for (const [id, entry] of this.outbox) {
        const key = "p" + id;
        let node = this.nodes.get(key);
        if (!node) {
          node = this.messageNode({
            seq: null,
            kind: "text",
            sender_id: this.me,
            text: entry.text,
            client_msg_id: id,
            created_at: entry.created_at || entry.at,
            attachments: [],
            previews: entry.previews,
          });
          this.nodes.set(key, node);
        }
        const state = entry.failed ? "Not sent (" + entry.failed + ")" : entry.acked ? "Sent" : "Sending…";
        node.querySelector(".cw-state").textContent = state;
        node.dataset.state = entry.failed ? "failed" : entry.acked ? "sent" : "pending";
        add(entry.created_at || entry.at, node);
      }
      if (this.hasMore) items.unshift(this.olderItem);
      // Move only what changed, so assistive technology announces new
      // messages once instead of the whole log on every update.
      items.forEach((node, index) => {
        if (list.children[index] !== node) list.insertBefore(node, list.children[index] || null);
      });
      while (list.children.length > items.length) list.lastElementChild.remove();
      if (forceScroll || nearBottom) list.scrollTop = list.scrollHeight;
    }

    nearBottom() {
      const list = this.listEl;
      return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    }

    daySeparator(at) {
      const label = new Date(at).toLocaleDateString(this.locale, {
        weekday: "short",
        day: "numeric",
        month: "short",
      });
      return h("li", { class: "cw-day", text: label }); // a list item: the list keeps its semantics
    }

    messageNode(m) {
      const mine = m.sender_id === this.me;
      const kind = m.kind === "system" ? "system" : mine ? "mine" : "theirs";
      const body = h("p", { class: "cw-text" });
      if (m.deleted) body.textContent = "This message was deleted.";
      else if (m.text_error) body.textContent = "This message cannot be shown.";
      else body.textContent = m.text || ""; // text, never HTML
      body.hidden = !body.textContent;
      const time = new Date(m.created_at);
      const meta = h(
        "p",
        { class: "cw-meta" },
        h("time", {
          datetime: m.created_at,
          text: time.toLocaleTimeString(this.locale, { hour: "2-digit", minute: "2-digit" }),
        }),
        m.edited_at && !m.deleted ? h("span", { text: " · edited" }) : null,
        h("span", { class: "cw-state" }),
      );
      const who =
        kind === "theirs" ? h("p", { class: "cw-who", text: this.nameOf(m.sender_id) }) : null;
      const card = m.kind === "action" && !m.deleted ? this.actionCard(m) : null;
      const editable = mine && m.kind === "text" && m.seq && !m.deleted && !m.text_error;
      const node = h(
        "li",
        {
          class: "cw-msg cw-" + kind + (card ? " cw-action" : ""),
          "data-seq": m.seq,
          "data-client-msg-id": m.client_msg_id,
          "data-kind": m.kind,
        },
        who,
        this.photosNode(m),
        card || body,
        meta,
      );
      if (editable) meta.append(this.optionsNode(m));
      return node;
    }

    /** A seller's quick action as a card; every value goes in as text. */
    actionCard(m) {
      const a = m.action;
      const title = a && ACTION_TITLES[a.action];
      if (!title) return null; // unknown or unreadable: the text summary is shown
      const rows = [];
      if (a.action === "propose_replacement") rows.push(["Item", a.name], ["SKU", a.sku]);
      if (a.action === "confirm_delivery_date") rows.push(["Delivery", this.formatDay(a.date)]);
      if (a.note) rows.push(["Note", a.note]);
      const fields = h("dl", { class: "cw-action-fields" });
      for (const [label, value] of rows) fields.append(h("dt", { text: label }), h("dd", { text: value }));
      return h(
        "div",
        { class: "cw-action-card", role: "group", "aria-label": title },
        h("p", { class: "cw-action-title", text: title }),
        rows.length ? fields : null,
        this.actionButtons(m),
      );
    }

    actionButtons(_message) {
      return null; /* widget-extras.js: "Send a photo" */
    }

    formatDay(iso) {
      const [y, mo, d] = String(iso).split("-").map(Number);
      const day = new Date(y, mo - 1, d);
      if (Number.isNaN(day.getTime())) return String(iso);
      return day.toLocaleDateString(this.locale, { weekday: "short", day: "numeric", month: "short", year: "numeric" });
    }

    photosNode(_message) {
      return null; /* replaced by widget-extras.js */
    }

    destroy() {
      this.stopped = true;
      clearTimeout(this.reconnectTimer);
      clearInterval(this.pingTimer);
      clearTimeout(this.pongTimer);
      for (const entry of this.outbox.values()) clearTimeout(entry.timer);
      for (const entry of this.changes.values()) clearTimeout(entry.timer);
      global.removeEventListener("online", this.onOnline);
      global.removeEventListener("offline", this.onOffline);
      document.removeEventListener("visibilitychange", this.onVisible);
      if (this.ws) {
        const ws = this.ws;
        this.ws = null;
        ws.close(1000);
      }
      this.root.replaceChildren();
    }
  }

  global.ChatWidget = {
    Widget: ChatWidget,
    h,
    icon,
    randomId,
    mount(element, options) {
      if (!(element instanceof Element)) throw new Error("ChatWidget.mount needs an element");
      return new ChatWidget(element, options);
    },
  };
})(window);
