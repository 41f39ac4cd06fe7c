"""Forms on the server side: links to fill a form, answer validation, attachments on disk, the
form's texts in the reader's language."""
