// Look-alike drug names within a care area (ISMP: name confusion is a leading cause of
// wrong-drug errors). Two names that differ only in letter case, spacing or characters that look
// alike on a small display (1/l/I, 0/O, rn/m) are refused; Tall Man lettering is an explicit
// field, checked to be the same name with some letters in capitals.

/** The name as a reader might see it: lower case, no spaces, look-alikes folded together. */
export function nameSkeleton(name: string): string {
    return name
        .toLowerCase()
        .replace(/\s+/g, "")
        .replace(/rn/g, "m")
        .replace(/[1il|!]/g, "l")
        .replace(/[0o]/g, "o")
        .replace(/vv/g, "w")
}

/** Why a drug name on its own is refused ("" if fine): whitespace a display would not show. */
export function nameProblem(name: string): string {
    if (name !== name.trim()) return "leading or trailing space in '" + name + "' (invisible on the pump display)"
    if (/\s\s/.test(name)) return "repeated spaces in '" + name + "'"
    return ""
}

/** Why a Tall Man form is refused for `drug` ("" if fine). */
export function tallManProblem(drug: string, tallMan: string): string {
    if (tallMan.toLowerCase() !== drug.toLowerCase()) return "Tall Man form '" + tallMan + "' must be the drug name '" + drug + "' with only the letter case changed"
    if (!/[A-Z]{2,}/.test(tallMan) || !/[a-z]/.test(tallMan)) return "Tall Man form '" + tallMan + "' needs a run of at least two capitals and some lower-case letters"
    return ""
}
