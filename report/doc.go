// Package report presents what package analyze judged: the report model
// (Report and its parts, whose JSON form is the contract in
// docs/report.md and docs/report.schema.json), its renderers, reading a
// report back, and the diff of two reports. It knows nothing of packets
// or sources.
//
//	report.go          the model; Build makes it from an analyze.Summary
//	                   and the inputs' descriptions
//	format.go          FormatTime and the addresses of attempts, formatted
//	                   without the time and netip packages' general paths
//	render.go          Render: text, and the dispatch to json and markdown
//	render_json.go     the JSON writer, streaming the attempts
//	render_markdown.go markdown, with tables that render in pandoc
//	render_html.go     one self-contained HTML page (render_html.tmpl):
//	                   inline CSS, the timeline as inline SVG, no script
//	render_plot.go     WritePlot: the timeline picture of the servers with
//	                   the most TFO attempts, drawn by report/plot
//	readreport.go      ReadReport: a JSON report back, checked
//	diff.go            Diff: what changed per server between two reports;
//	                   render_diff.go renders it
package report
