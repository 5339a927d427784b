package report

// ChangeLine says when a server's outcomes changed, as the text report
// does ("stopped granting: last grant 0:12 (SYN 0:11) at ..."), for
// renderers outside this package (JUnit).
func ChangeLine(c *ChangeReport) string { return changeSentence(c) }
