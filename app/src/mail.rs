//! Email, when the operator names a mail server (`SMTP_URL`): messages with a plain-text and an
//! HTML part, sent through `lettre` after the request that caused them has been answered, so
//! that no answer waits on (or, by its timing, tells anything about) a mail server.

use lettre::{
    message::{Mailbox, MultiPart},
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};

use crate::config::{ExposeSecret, Mail};

/// One message: a subject, paragraphs, and at most one link (its label and whole URL).
pub struct Letter {
    pub subject: String,
    pub paragraphs: Vec<String>,
    pub link: Option<(String, String)>,
}

impl Letter {
    fn text(&self) -> String {
        let mut text = self.paragraphs.join("\n\n");
        if let Some((label, url)) = &self.link {
            text.push_str(&format!("\n\n{label}:\n{url}"));
        }
        text.push_str("\n\n-- \nCrossview\n");
        text
    }

    fn html(&self) -> String {
        let mut html =
            String::from("<!doctype html><html><body style=\"font-family: sans-serif\">");
        for p in &self.paragraphs {
            html.push_str(&format!("<p>{}</p>", escape(p)));
        }
        if let Some((label, url)) = &self.link {
            html.push_str(&format!(
                "<p><a href=\"{}\">{}</a></p>",
                escape(url),
                escape(label)
            ));
        }
        html.push_str("<p style=\"color: #666\">Crossview</p></body></html>");
        html
    }
}

/// Text as HTML text or an attribute's value: what a user typed (an address, a file name) is
/// never markup in a message.
fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

/// Checks the operator's settings at start: a URL `lettre` takes and a sender address.
pub fn check(mail: &Mail) -> Result<(), String> {
    AsyncSmtpTransport::<Tokio1Executor>::from_url(mail.url.expose_secret())
        .map_err(|e| format!("SMTP_URL: {e}"))?;
    mail.from
        .parse::<Mailbox>()
        .map_err(|e| format!("MAIL_FROM: {e}"))?;
    Ok(())
}

/// Sends `letter` in the background; a failure is logged (without the message), never shown.
pub fn send_later(mail: &Mail, to: String, letter: Letter) {
    let mail = mail.clone();
    tokio::spawn(async move {
        if let Err(err) = send(&mail, &to, &letter).await {
            tracing::warn!(subject = %letter.subject, "mail not sent: {err}");
        }
    });
}

async fn send(mail: &Mail, to: &str, letter: &Letter) -> Result<(), String> {
    let message = Message::builder()
        .from(mail.from.parse::<Mailbox>().map_err(|e| e.to_string())?)
        .to(to.parse::<Mailbox>().map_err(|e| e.to_string())?)
        .subject(letter.subject.clone())
        .multipart(MultiPart::alternative_plain_html(
            letter.text(),
            letter.html(),
        ))
        .map_err(|e| e.to_string())?;
    let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(mail.url.expose_secret())
        .map_err(|e| e.to_string())?
        .timeout(Some(std::time::Duration::from_secs(20)))
        .build();
    transport.send(message).await.map_err(|e| e.to_string())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_user_typed_is_text_in_both_parts() {
        let letter = Letter {
            subject: "s".into(),
            paragraphs: vec!["A file named <script>alert(1)</script> & co".into()],
            link: Some(("Open \"it\"".into(), "https://x.test/a?b=1&c=2".into())),
        };
        let html = letter.html();
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"));
        assert!(html.contains("href=\"https://x.test/a?b=1&amp;c=2\""));
        assert!(letter.text().contains("https://x.test/a?b=1&c=2"));
    }
}
