/* Demo host page: reads the server-rendered config and mounts the widget. */
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("chat-config").textContent);
  window.demoChat = ChatWidget.mount(document.getElementById("chat"), {
    baseUrl: config.baseUrl,
    tenantId: config.tenantId,
    conversationId: config.conversationId,
    token: config.token,
    async getToken() {
      const response = await fetch(config.tokenUrl, { method: "POST", credentials: "same-origin" });
      if (!response.ok) throw new Error("no token");
      return (await response.json()).token;
    },
  });
})();
