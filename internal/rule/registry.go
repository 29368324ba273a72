package rule

// registry lists every learning rule, in the order help and `pctrain
// rules` show them. Adding a rule: its own file in this package, and one
// line here.
var registry = []*Info{
	bpInfo,
	pcInfo,
	zilInfo,
	faZILInfo,
	ipcInfo,
	epcInfo,
	faInfo,
	usfInfo,
	frsfInfo,
	brsfInfo,
	dfaInfo,
}
