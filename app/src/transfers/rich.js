// Markdown and source-code previews, by maintained libraries loaded only when a preview needs
// one (public/vendor: markdown-it and highlight.js, as published on npm). Each returns HTML that
// holds no markup of the object's own: markdown-it escapes raw HTML (`html: false`) and refuses
// javascript:/vbscript:/file:/data: links; highlight.js escapes everything it does not colour.

const MARKDOWN = "/vendor/markdown-it-14.3.3.min.js";
const HIGHLIGHT = "/vendor/highlight-11.12.0.min.js";

let markdown;

export async function renderMarkdown(text) {
  if (!markdown) {
    // The UMD build defines `markdownit` on the global object when imported as a module.
    await import(MARKDOWN);
    markdown = globalThis.markdownit({ html: false, linkify: false, typographer: false });
    const escape = markdown.utils.escapeHtml;
    // No image is fetched (no remote address learns who reads the file): its description stands.
    markdown.renderer.rules.image = (tokens, i) => {
      const token = tokens[i];
      const alt = token.children ? markdown.renderer.renderInlineAsText(token.children) : token.content;
      return `<span class="md-image">[image: ${escape(alt || token.attrGet("src") || "")}]</span>`;
    };
    // Links leave the page without telling the other site where from.
    const open = markdown.renderer.rules.link_open || ((tokens, i, options, env, self) => self.renderToken(tokens, i, options));
    markdown.renderer.rules.link_open = (tokens, i, options, env, self) => {
      tokens[i].attrSet("rel", "noopener noreferrer nofollow");
      tokens[i].attrSet("target", "_blank");
      return open(tokens, i, options, env, self);
    };
  }
  return markdown.render(text);
}

export async function highlight(text, language) {
  const { default: hljs } = await import(HIGHLIGHT);
  return hljs.highlight(text, { language, ignoreIllegals: true }).value;
}
