"""The Office's periodic report on a plan's execution: the figures (pure), and the .docx and .xlsx drafts."""
