/* Boots the vendored GraphiQL on /graphql (an external file: the page allows no inline script).
   The endpoint and the starting query come from data attributes of #graphiql. */
(function () {
  "use strict";
  var root = document.getElementById("graphiql");
  var endpoint = root.getAttribute("data-endpoint") || "/graphql";
  var defaultQuery = root.getAttribute("data-default-query") || "";
  var fetcher = window.GraphiQL.createFetcher({ url: endpoint });
  // Same-origin fetch; a personal access token can be given in GraphiQL's Headers tab
  // as {"Authorization": "Bearer cgd_pat_..."} for a larger points budget.
  var element = window.React.createElement(window.GraphiQL, {
    fetcher: fetcher,
    defaultQuery: defaultQuery,
    defaultEditorToolsVisibility: true,
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: false,
  });
  window.ReactDOM.createRoot(root).render(element);
  document.documentElement.setAttribute("data-graphiql", "booted");
})();
