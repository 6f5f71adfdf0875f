//! Eve's second `where` syntax: a small Python-expression language (eve-wire.md §1.5 B), such
//! as `lastname == "Doe"` or `age > 5 and (city == "X" or city == "Y")`.
//!
//! Eve hands the text to Python's `ast` module and walks the tree; constructs its walker does
//! not know either crash it (a 500) or silently build a wrong query. Here a small hand-written
//! tokenizer and recursive-descent parser accept exactly the documented grammar, produce the
//! same [`Filter`] tree as the JSON syntax, and turn everything else into a 400
//! ([`QueryError::WhereSyntaxAt`]) that says what was wrong and where:
//!
//! ```text
//! expr       := and_expr ("or" and_expr)*            -- "and" binds tighter than "or"
//! and_expr   := primary ("and" primary)*
//! primary    := "(" expr ")" | comparison
//! comparison := path ("==" | "!=" | ">" | ">=" | "<" | "<=") value   -- no chaining
//! path       := NAME ("." NAME)*
//! value      := ["-"] NUMBER | STRING | "True" | "False" | "None"
//!             | "ObjectId" "(" STRING ")"
//!             | "datetime" "(" INT "," INT "," INT ["," INT ["," INT ["," INT]]] ")"
//!             | path                                  -- a bare name is that name as a string
//! ```
//!
//! Strings and bare names go through [`Val::cast_str`], like every string in the JSON syntax,
//! so `_created >= "Tue, 01 Oct 2013 00:59:22 GMT"` compares dates.
//!
//! Deliberate deviations from Eve: `True`/`False`/`None` are the boolean and null literals (Eve
//! turns `active == True` into `{"active": "active"}`); a leading minus is kept (Eve's walker
//! drops it from `-5`); whitespace before the expression is allowed (Python's parser rejects
//! it as an indentation error); `in`, `is`, `not`, arithmetic and chained comparisons are 400s
//! instead of 500s or garbage. Positions in messages are 0-based character offsets.

use super::error::QueryError;
use super::filter::{Cond, Filter, Val};
use crate::domain::{HttpDate, ObjectId};

/// Parentheses nested deeper than this are refused, so hostile input cannot overflow the stack.
const MAX_DEPTH: usize = 64;

/// Python's keywords. None of them can name a field or be a bare-name value in Python, so Eve
/// rejects them too; `True`/`False`/`None` are literals and handled separately.
const KEYWORDS: &[&str] = &[
    "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del", "elif",
    "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda",
    "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with", "yield",
];

/// Parses a Python-syntax `where` expression into a filter.
pub fn parse(raw: &str) -> Result<Filter, QueryError> {
    let mut p = Parser {
        toks: lex(raw)?,
        at: 0,
        depth: 0,
    };
    if p.peek().tok == Tok::End {
        return Err(err("empty expression", 0));
    }
    let filter = p.or_expr()?;
    match p.peek().tok {
        Tok::End => Ok(filter),
        _ => Err(p.unexpected("'and', 'or' or the end of the expression")),
    }
}

fn err(msg: impl std::fmt::Display, pos: usize) -> QueryError {
    QueryError::WhereSyntaxAt(format!("{msg} at position {pos}"))
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
}

impl Op {
    fn cond(self, v: Val) -> Cond {
        match self {
            Op::Eq => Cond::Eq(v),
            Op::Ne => Cond::Ne(v),
            Op::Gt => Cond::Gt(v),
            Op::Gte => Cond::Gte(v),
            Op::Lt => Cond::Lt(v),
            Op::Lte => Cond::Lte(v),
        }
    }

    fn symbol(self) -> &'static str {
        ["==", "!=", ">", ">=", "<", "<="][self as usize]
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Name(String),
    /// The number's source text; it is converted once we know whether an integer is required.
    Num(String),
    Str(String),
    Cmp(Op),
    Minus,
    LParen,
    RParen,
    Comma,
    Dot,
    /// Python punctuation we recognise only to report it clearly (`+`, `[`, `=`…).
    Sym(char),
    End,
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    pos: usize,
}

/// Splits the input into tokens; the list always ends with [`Tok::End`].
fn lex(raw: &str) -> Result<Vec<Token>, QueryError> {
    let s: Vec<char> = raw.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let (c, pos) = (s[i], i);
        let next = s.get(i + 1).copied();
        let tok = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                while s
                    .get(i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
                {
                    i += 1;
                }
                Tok::Name(s[pos..i].iter().collect())
            }
            c if c.is_ascii_digit() || (c == '.' && next.is_some_and(|n| n.is_ascii_digit())) => {
                i = scan_number(&s, i);
                if s.get(i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
                {
                    return Err(err("invalid number", pos));
                }
                Tok::Num(s[pos..i].iter().collect())
            }
            '"' | '\'' => {
                let (text, end) = scan_string(&s, i)?;
                i = end;
                Tok::Str(text)
            }
            '=' | '!' | '<' | '>' if next == Some('=') => {
                i += 2;
                Tok::Cmp(match c {
                    '=' => Op::Eq,
                    '!' => Op::Ne,
                    '<' => Op::Lte,
                    _ => Op::Gte,
                })
            }
            _ => {
                i += 1;
                match c {
                    '<' => Tok::Cmp(Op::Lt),
                    '>' => Tok::Cmp(Op::Gt),
                    '-' => Tok::Minus,
                    '(' => Tok::LParen,
                    ')' => Tok::RParen,
                    ',' => Tok::Comma,
                    '.' => Tok::Dot,
                    '+' | '*' | '/' | '%' | '@' | '&' | '|' | '^' | '~' | '=' | '!' | ':' | ';'
                    | '[' | ']' | '{' | '}' => Tok::Sym(c),
                    _ => return Err(err(format!("unexpected character '{c}'"), pos)),
                }
            }
        };
        out.push(Token { tok, pos });
    }
    out.push(Token {
        tok: Tok::End,
        pos: s.len(),
    });
    Ok(out)
}

/// Python's decimal literal: `12`, `1.5`, `1.`, `.5`, `1e-3`. Returns the end index.
fn scan_number(s: &[char], mut i: usize) -> usize {
    let digits = |mut i: usize| {
        while s.get(i).is_some_and(char::is_ascii_digit) {
            i += 1;
        }
        i
    };
    i = digits(i);
    if s.get(i) == Some(&'.') {
        i = digits(i + 1);
    }
    if matches!(s.get(i), Some('e' | 'E')) {
        let sign = usize::from(matches!(s.get(i + 1), Some('+' | '-')));
        if s.get(i + 1 + sign).is_some_and(char::is_ascii_digit) {
            i = digits(i + 1 + sign);
        }
    }
    i
}

/// A quoted string starting at `s[start]`. Returns its value and the index after the quote.
/// Unknown escapes such as `\d` stay as written, as in Python; escapes Python would decode but
/// we do not (`\x41`, `\u00e9`, octal…) are refused rather than silently read differently.
fn scan_string(s: &[char], start: usize) -> Result<(String, usize), QueryError> {
    let quote = s[start];
    let mut out = String::new();
    let mut i = start + 1;
    loop {
        match s.get(i) {
            None | Some('\n') => return Err(err("unterminated string", start)),
            Some(&c) if c == quote => return Ok((out, i + 1)),
            Some('\\') => {
                match s.get(i + 1) {
                    None => return Err(err("unterminated string", start)),
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some('r') => out.push('\r'),
                    Some('\n') => {}
                    Some(&c @ ('\\' | '\'' | '"')) => out.push(c),
                    Some(&c @ ('x' | 'u' | 'U' | 'N' | 'a' | 'b' | 'f' | 'v' | '0'..='7')) => {
                        return Err(err(format!("unsupported escape '\\{c}'"), i));
                    }
                    Some(&c) => out.extend(['\\', c]),
                }
                i += 2;
            }
            Some(&c) => {
                out.push(c);
                i += 1;
            }
        }
    }
}

/// A function argument: `ObjectId` takes a string, `datetime` integers.
enum Arg {
    Str(String),
    Num { text: String, neg: bool },
}

struct Parser {
    toks: Vec<Token>,
    at: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> &Token {
        // `at` never moves past the final `End` token.
        &self.toks[self.at]
    }

    fn advance(&mut self) {
        if self.peek().tok != Tok::End {
            self.at += 1;
        }
    }

    fn eat(&mut self, tok: &Tok) -> bool {
        let hit = self.peek().tok == *tok;
        if hit {
            self.advance();
        }
        hit
    }

    fn eat_keyword(&mut self, kw: &str) -> bool {
        self.eat(&Tok::Name(kw.to_string()))
    }

    fn or_expr(&mut self) -> Result<Filter, QueryError> {
        let mut parts = vec![self.and_expr()?];
        while self.eat_keyword("or") {
            parts.push(self.and_expr()?);
        }
        Ok(join(parts, Filter::Or))
    }

    fn and_expr(&mut self) -> Result<Filter, QueryError> {
        let mut parts = vec![self.primary()?];
        while self.eat_keyword("and") {
            parts.push(self.primary()?);
        }
        Ok(join(parts, Filter::And))
    }

    fn primary(&mut self) -> Result<Filter, QueryError> {
        let open = self.peek().pos;
        if !self.eat(&Tok::LParen) {
            return self.comparison();
        }
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(err("parentheses nested too deeply", open));
        }
        let inner = self.or_expr()?;
        self.depth -= 1;
        match self.peek().tok {
            Tok::RParen => {
                self.advance();
                Ok(inner)
            }
            Tok::End => Err(err("unclosed '('", open)),
            _ => Err(self.unexpected("')', 'and' or 'or'")),
        }
    }

    fn comparison(&mut self) -> Result<Filter, QueryError> {
        let path = match &self.peek().tok {
            Tok::Name(n) if !is_reserved(n) => {
                let first = n.clone();
                self.advance();
                self.dotted(first)?
            }
            Tok::Num(_) | Tok::Str(_) => {
                return Err(err("a literal cannot be on the left side", self.peek().pos))
            }
            Tok::Name(n) if is_literal(n) => {
                return Err(err("a literal cannot be on the left side", self.peek().pos))
            }
            _ => return Err(self.unexpected("a field name")),
        };
        let op = match self.peek().tok {
            Tok::Cmp(op) => op,
            Tok::LParen => return Err(err("function calls are not supported", self.peek().pos)),
            _ => return Err(self.unexpected(&format!("a comparison operator after '{path}'"))),
        };
        self.advance();
        let value = self.value()?;
        if let Tok::Cmp(next) = self.peek().tok {
            let msg = format!(
                "chained comparisons are not supported ('{}')",
                next.symbol()
            );
            return Err(err(msg, self.peek().pos));
        }
        Ok(Filter::Field {
            path,
            conds: vec![op.cond(value)],
        })
    }

    /// Continues a name with `.attr` segments: `location` + `.city` → `location.city`.
    fn dotted(&mut self, mut path: String) -> Result<String, QueryError> {
        while self.eat(&Tok::Dot) {
            match &self.peek().tok {
                Tok::Name(n) if !is_reserved(n) => {
                    path.push('.');
                    path.push_str(n);
                    self.advance();
                }
                _ => return Err(self.unexpected("a name after '.'")),
            }
        }
        Ok(path)
    }

    fn value(&mut self) -> Result<Val, QueryError> {
        let Token { tok, pos } = self.peek().clone();
        match tok {
            Tok::Num(_) | Tok::Minus => {
                let (text, neg) = self.signed_number()?;
                number(&text, neg, pos)
            }
            Tok::Str(s) => {
                self.advance();
                Ok(Val::cast_str(&s))
            }
            Tok::Name(n) if is_literal(&n) => {
                self.advance();
                Ok(match n.as_str() {
                    "True" => Val::Bool(true),
                    "False" => Val::Bool(false),
                    _ => Val::Null,
                })
            }
            Tok::Name(n) if !is_reserved(&n) => {
                self.advance();
                let name = self.dotted(n)?;
                if self.peek().tok == Tok::LParen {
                    self.call(&name, pos)
                } else {
                    Ok(Val::cast_str(&name))
                }
            }
            _ => Err(self.unexpected("a value")),
        }
    }

    /// `ObjectId("…")` or `datetime(y, m, d[, H, M, S])`; the name is already consumed.
    fn call(&mut self, name: &str, pos: usize) -> Result<Val, QueryError> {
        if name != "ObjectId" && name != "datetime" {
            return Err(err(format!("unsupported function '{name}'"), pos));
        }
        self.advance(); // the '('
        let mut args = Vec::new();
        while !self.eat(&Tok::RParen) {
            args.push(match &self.peek().tok {
                Tok::Str(s) => {
                    let s = s.clone();
                    self.advance();
                    Arg::Str(s)
                }
                _ => {
                    let (text, neg) = self.signed_number()?;
                    Arg::Num { text, neg }
                }
            });
            if !self.eat(&Tok::Comma) && self.peek().tok != Tok::RParen {
                return Err(self.unexpected("',' or ')'"));
            }
        }
        if name == "ObjectId" {
            let [Arg::Str(hex)] = args.as_slice() else {
                return Err(err("ObjectId() takes one string argument", pos));
            };
            return ObjectId::parse(hex).map(Val::Oid).map_err(|_| {
                err(
                    format!("invalid ObjectId \"{hex}\" (24 lowercase hex characters)"),
                    pos,
                )
            });
        }
        if !(3..=6).contains(&args.len()) {
            return Err(err("datetime() takes 3 to 6 integer arguments", pos));
        }
        let mut n = [0i64, 1, 1, 0, 0, 0];
        for (slot, arg) in n.iter_mut().zip(&args) {
            *slot = match arg {
                Arg::Num { text, neg } if text.bytes().all(|b| b.is_ascii_digit()) => {
                    let v: i64 = text.parse().map_err(|_| err("number out of range", pos))?;
                    if *neg {
                        -v
                    } else {
                        v
                    }
                }
                _ => return Err(err("datetime() arguments must be integers", pos)),
            };
        }
        date_from(n)
            .map(Val::Date)
            .ok_or_else(|| err("invalid date in datetime()", pos))
    }

    /// A number token, optionally preceded by `-`: its text and whether it is negated.
    fn signed_number(&mut self) -> Result<(String, bool), QueryError> {
        let neg = self.eat(&Tok::Minus);
        match &self.peek().tok {
            Tok::Num(text) => {
                let text = text.clone();
                self.advance();
                Ok((text, neg))
            }
            _ if neg => Err(self.unexpected("a number after '-'")),
            _ => Err(self.unexpected("a value")),
        }
    }

    /// The error for the current token, given what was expected there. Operators Python has
    /// but this grammar lacks are named as such, since they are the likely mistake.
    fn unexpected(&self, wanted: &str) -> QueryError {
        let Token { tok, pos } = self.peek();
        let following = self.toks.get(self.at + 1).map(|t| &t.tok);
        let msg = match tok {
            Tok::Name(n) if n == "not" && following == Some(&Tok::Name("in".into())) => {
                "unsupported operator 'not in'".to_string()
            }
            Tok::Name(n) if n == "is" && following == Some(&Tok::Name("not".into())) => {
                "unsupported operator 'is not'".to_string()
            }
            Tok::Name(n) if matches!(n.as_str(), "in" | "is" | "not") => {
                format!("unsupported operator '{n}'")
            }
            Tok::Sym('=') => "unsupported operator '=' (use '==')".to_string(),
            Tok::Sym(c @ ('[' | '{')) => {
                format!("list and dict literals are not supported ('{c}')")
            }
            Tok::Sym(c @ (':' | ';' | ']' | '}')) => format!("unexpected '{c}'"),
            Tok::Sym(c) => format!("unsupported operator '{c}'"),
            Tok::Minus => "unsupported operator '-'".to_string(),
            Tok::RParen if wanted.starts_with("'and'") => "unmatched ')'".to_string(),
            Tok::End => format!("expected {wanted}, found the end of the expression"),
            Tok::Name(n) => format!("expected {wanted}, found '{n}'"),
            Tok::Num(t) => format!("expected {wanted}, found number {t}"),
            Tok::Str(s) => format!("expected {wanted}, found string {s:?}"),
            Tok::Cmp(op) => format!("expected {wanted}, found '{}'", op.symbol()),
            Tok::LParen => format!("expected {wanted}, found '('"),
            Tok::RParen => format!("expected {wanted}, found ')'"),
            Tok::Comma => format!("expected {wanted}, found ','"),
            Tok::Dot => format!("expected {wanted}, found '.'"),
        };
        err(msg, *pos)
    }
}

/// `[y, m, d, H, M, S]` as a date, `None` when any part is out of range.
fn date_from(n: [i64; 6]) -> Option<HttpDate> {
    let u = |v: i64| u32::try_from(v).ok();
    let year = i32::try_from(n[0]).ok()?;
    HttpDate::from_ymd_hms(year, u(n[1])?, u(n[2])?, u(n[3])?, u(n[4])?, u(n[5])?)
}

fn is_reserved(name: &str) -> bool {
    KEYWORDS.contains(&name) || is_literal(name)
}

fn is_literal(name: &str) -> bool {
    matches!(name, "True" | "False" | "None")
}

fn number(text: &str, neg: bool, pos: usize) -> Result<Val, QueryError> {
    let v: f64 = text.parse().map_err(|_| err("invalid number", pos))?;
    if !v.is_finite() {
        return Err(err("number out of range", pos));
    }
    Ok(Val::Num(if neg { -v } else { v }))
}

/// One operand stands alone; several become `make` (`Filter::And` / `Filter::Or`).
fn join(mut parts: Vec<Filter>, make: fn(Vec<Filter>) -> Filter) -> Filter {
    if parts.len() == 1 {
        parts.pop().unwrap_or(Filter::True)
    } else {
        make(parts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(path: &str, cond: Cond) -> Filter {
        Filter::Field {
            path: path.to_string(),
            conds: vec![cond],
        }
    }

    fn eq(path: &str, v: Val) -> Filter {
        field(path, Cond::Eq(v))
    }

    fn s(v: &str) -> Val {
        Val::Str(v.to_string())
    }

    fn ok(raw: &str) -> Filter {
        match parse(raw) {
            Ok(f) => f,
            Err(e) => panic!("{raw:?} failed: {e}"),
        }
    }

    fn message(raw: &str) -> String {
        match parse(raw) {
            Ok(f) => panic!("{raw:?} parsed as {f:?}"),
            Err(QueryError::WhereSyntaxAt(m)) => m,
            Err(e) => panic!("{raw:?} gave the wrong error kind: {e:?}"),
        }
    }

    #[test]
    fn each_comparison_operator() {
        assert_eq!(ok(r#"lastname=="Doe""#), eq("lastname", s("Doe")));
        assert_eq!(ok("age != 5"), field("age", Cond::Ne(Val::Num(5.0))));
        assert_eq!(ok("age > 5"), field("age", Cond::Gt(Val::Num(5.0))));
        assert_eq!(ok("age >= 5"), field("age", Cond::Gte(Val::Num(5.0))));
        assert_eq!(ok("age < 5"), field("age", Cond::Lt(Val::Num(5.0))));
        assert_eq!(ok("age <= 5"), field("age", Cond::Lte(Val::Num(5.0))));
    }

    #[test]
    fn and_binds_tighter_than_or() {
        let (a, b, c) = (
            eq("a", Val::Num(1.0)),
            eq("b", Val::Num(2.0)),
            eq("c", Val::Num(3.0)),
        );
        assert_eq!(
            ok("a == 1 or b == 2 and c == 3"),
            Filter::Or(vec![a.clone(), Filter::And(vec![b.clone(), c.clone()])])
        );
        assert_eq!(
            ok("a == 1 and b == 2 or c == 3"),
            Filter::Or(vec![Filter::And(vec![a.clone(), b.clone()]), c.clone()])
        );
        assert_eq!(
            ok("a == 1 and b == 2 and c == 3"),
            Filter::And(vec![a.clone(), b.clone(), c.clone()])
        );
        assert_eq!(
            ok("a == 1 or b == 2 or c == 3"),
            Filter::Or(vec![a.clone(), b.clone(), c.clone()])
        );
    }

    #[test]
    fn parentheses_group_and_nest() {
        let (a, b, c) = (
            eq("a", Val::Num(1.0)),
            eq("b", Val::Num(2.0)),
            eq("c", Val::Num(3.0)),
        );
        assert_eq!(
            ok("(a == 1 or b == 2) and c == 3"),
            Filter::And(vec![Filter::Or(vec![a.clone(), b.clone()]), c.clone()])
        );
        assert_eq!(
            ok(r#"age>5 and (city=="X" or city=="Y")"#),
            Filter::And(vec![
                field("age", Cond::Gt(Val::Num(5.0))),
                Filter::Or(vec![eq("city", s("X")), eq("city", s("Y"))]),
            ])
        );
        assert_eq!(ok("((a == 1))"), a.clone());
        assert_eq!(
            ok("( a==1 and ( b==2 or ( c==3 ) ) )"),
            Filter::And(vec![a, Filter::Or(vec![b, c])])
        );
    }

    #[test]
    fn dotted_paths_and_whitespace() {
        assert_eq!(
            ok(r#"location.city == "Oslo""#),
            eq("location.city", s("Oslo"))
        );
        assert_eq!(
            ok("debt.invoice_number==12"),
            eq("debt.invoice_number", Val::Num(12.0))
        );
        assert_eq!(
            ok("  _created\t>\n0  "),
            field("_created", Cond::Gt(Val::Num(0.0)))
        );
        assert_eq!(ok("a . b . c == 1"), eq("a.b.c", Val::Num(1.0)));
    }

    #[test]
    fn bare_name_is_a_string() {
        assert_eq!(ok("ref == abc"), eq("ref", s("abc")));
        assert_eq!(ok("ref == a.b"), eq("ref", s("a.b")));
        // `datetime`/`ObjectId` without a call are just names too
        assert_eq!(ok("ref == datetime"), eq("ref", s("datetime")));
        // bare names are cast like quoted strings
        let oid = ObjectId::parse("abcdef0123456789abcdef01").unwrap();
        assert_eq!(
            ok("ref == abcdef0123456789abcdef01"),
            eq("ref", Val::Oid(oid))
        );
    }

    #[test]
    fn numbers() {
        assert_eq!(ok("n == 42"), eq("n", Val::Num(42.0)));
        assert_eq!(ok("n == -7"), eq("n", Val::Num(-7.0)));
        assert_eq!(ok("n == - 7"), eq("n", Val::Num(-7.0)));
        assert_eq!(ok("n == 1.5"), eq("n", Val::Num(1.5)));
        assert_eq!(ok("n == -0.25"), eq("n", Val::Num(-0.25)));
        assert_eq!(ok("n == .5"), eq("n", Val::Num(0.5)));
        assert_eq!(ok("n == 1e3"), eq("n", Val::Num(1000.0)));
        assert_eq!(ok("n == 2.5E-1"), eq("n", Val::Num(0.25)));
    }

    #[test]
    fn quoted_strings() {
        assert_eq!(ok("name == 'single'"), eq("name", s("single")));
        assert_eq!(ok(r#"name == "double""#), eq("name", s("double")));
        assert_eq!(ok(r#"name == "it's""#), eq("name", s("it's")));
        assert_eq!(ok(r#"name == 'say "hi"'"#), eq("name", s("say \"hi\"")));
        assert_eq!(ok(r#"name == 'a\'b\"c\\d'"#), eq("name", s("a'b\"c\\d")));
        assert_eq!(ok(r#"name == "x\ny\tz""#), eq("name", s("x\ny\tz")));
        assert_eq!(ok(r#"name == "\d+""#), eq("name", s("\\d+")));
        assert_eq!(ok(r#"name == "é and or""#), eq("name", s("é and or")));
        assert_eq!(ok("name == ''"), eq("name", s("")));
    }

    #[test]
    fn object_id_and_datetime_calls() {
        let oid = ObjectId::parse("507f1f77bcf86cd799439011").unwrap();
        assert_eq!(
            ok(r#"_id == ObjectId("507f1f77bcf86cd799439011")"#),
            eq("_id", Val::Oid(oid))
        );
        assert_eq!(
            ok("_id == ObjectId( '507f1f77bcf86cd799439011' , )"),
            eq("_id", Val::Oid(oid))
        );
        let day = HttpDate::from_ymd_hms(2013, 10, 1, 0, 0, 0).unwrap();
        assert_eq!(
            ok("born == datetime(2013, 10, 1)"),
            eq("born", Val::Date(day))
        );
        let at = HttpDate::from_ymd_hms(2013, 10, 1, 0, 59, 22).unwrap();
        assert_eq!(
            ok("_created >= datetime(2013,10,1,0,59,22)"),
            field("_created", Cond::Gte(Val::Date(at)))
        );
    }

    #[test]
    fn date_and_object_id_strings_are_cast() {
        let at = HttpDate::from_ymd_hms(2013, 10, 1, 0, 59, 22).unwrap();
        assert_eq!(
            ok(r#"_created >= "Tue, 01 Oct 2013 00:59:22 GMT""#),
            field("_created", Cond::Gte(Val::Date(at)))
        );
        let oid = ObjectId::parse("507f1f77bcf86cd799439011").unwrap();
        assert_eq!(
            ok("ref == '507f1f77bcf86cd799439011'"),
            eq("ref", Val::Oid(oid))
        );
        // not RFC 1123 with GMT: stays a string
        assert_eq!(ok("d == '2013-10-01'"), eq("d", s("2013-10-01")));
    }

    #[test]
    fn true_false_none_are_literals() {
        assert_eq!(ok("active == True"), eq("active", Val::Bool(true)));
        assert_eq!(
            ok("active != False"),
            field("active", Cond::Ne(Val::Bool(false)))
        );
        assert_eq!(ok("deleted_at == None"), eq("deleted_at", Val::Null));
        // other spellings are plain names
        assert_eq!(ok("active == true"), eq("active", s("true")));
    }

    #[test]
    fn errors_say_what_and_where() {
        assert_eq!(
            message(r#"name in "x""#),
            "unsupported operator 'in' at position 5"
        );
        assert_eq!(
            message("a == 1 and b not in c"),
            "unsupported operator 'not in' at position 13"
        );
        assert_eq!(
            message("a is None"),
            "unsupported operator 'is' at position 2"
        );
        assert_eq!(
            message("a is not None"),
            "unsupported operator 'is not' at position 2"
        );
        assert_eq!(
            message("not a == 1"),
            "unsupported operator 'not' at position 0"
        );
        assert_eq!(
            message("a + 1 == 2"),
            "unsupported operator '+' at position 2"
        );
        assert_eq!(
            message("a == 1 + 2"),
            "unsupported operator '+' at position 7"
        );
        assert_eq!(
            message("a - 1 == 2"),
            "unsupported operator '-' at position 2"
        );
        assert_eq!(
            message("a = 1"),
            "unsupported operator '=' (use '==') at position 2"
        );
        assert_eq!(
            message("1 < a < 3"),
            "a literal cannot be on the left side at position 0"
        );
        assert_eq!(
            message("a < 1 < 3"),
            "chained comparisons are not supported ('<') at position 6"
        );
        assert_eq!(
            message("a == 1 == 2"),
            "chained comparisons are not supported ('==') at position 7"
        );
        assert_eq!(message("a"), "expected a comparison operator after 'a', found the end of the expression at position 1");
        assert_eq!(
            message("a and b"),
            "expected a comparison operator after 'a', found 'and' at position 2"
        );
        assert_eq!(
            message("{'age': 1}"),
            "list and dict literals are not supported ('{') at position 0"
        );
        assert_eq!(
            message("a == [1, 2]"),
            "list and dict literals are not supported ('[') at position 5"
        );
        assert_eq!(
            message("a == foo(1)"),
            "unsupported function 'foo' at position 5"
        );
        assert_eq!(
            message("len(a) == 1"),
            "function calls are not supported at position 3"
        );
        assert_eq!(
            message("'a' == 1"),
            "a literal cannot be on the left side at position 0"
        );
        assert_eq!(
            message("True == a"),
            "a literal cannot be on the left side at position 0"
        );
        assert_eq!(
            message("a == 1 b == 2"),
            "expected 'and', 'or' or the end of the expression, found 'b' at position 7"
        );
        assert_eq!(message("(a == 1"), "unclosed '(' at position 0");
        assert_eq!(message("a == 1)"), "unmatched ')' at position 6");
        assert_eq!(message(""), "empty expression at position 0");
        assert_eq!(message("   "), "empty expression at position 0");
        assert_eq!(message("a == 'abc"), "unterminated string at position 5");
        assert_eq!(
            message("a == "),
            "expected a value, found the end of the expression at position 5"
        );
    }

    #[test]
    fn everything_else_is_an_error_not_a_panic() {
        for bad in [
            "a ==",
            "== 1",
            "()",
            "(",
            ")",
            "a == 1 and",
            "or a == 1",
            "a == 1 and or b == 2",
            "a == 1;",
            "a == 1 if b else c",
            "a.",
            "a..b == 1",
            "a.1 == 2",
            "a == -x",
            "a == --1",
            "a == 5abc",
            "a == 1.2.3",
            "a == 1e999",
            "a == (1)",
            "a == \"x\" \"y\"",
            "a == u'x'",
            "a == '\\x41'",
            "a == 'line\nbreak'",
            "a == 'x\\",
            "class == 1",
            "a.if == 1",
            "a == lambda",
            "a == True.x",
            "a == ObjectId()",
            "a == ObjectId('507F1F77BCF86CD799439011')",
            "a == ObjectId('507f1f77')",
            "a == ObjectId(1)",
            "a == ObjectId('507f1f77bcf86cd799439011', 'x')",
            "a == ObjectId('507f1f77bcf86cd799439011'",
            "a == datetime(2013, 10)",
            "a == datetime(2013, 2, 30)",
            "a == datetime(2013, 1, 1, 24, 0, 0)",
            "a == datetime(2013, 1, 1, 0, 0, 0, 0)",
            "a == datetime(2013.5, 1, 1)",
            "a == datetime(2013, -1, 1)",
            "a == datetime(99999999999999999999, 1, 1)",
            "a == datetime(2013 1 1)",
            "a == datetime(year=2013, month=1, day=1)",
            "a == datetime.datetime(2013, 1, 1)",
            "a == 1 # comment",
            "a == $x",
            "a ≥ 1",
            "a == 1 and not b == 2",
            "a == {}",
            "lambda: 1",
        ] {
            assert!(
                matches!(parse(bad), Err(QueryError::WhereSyntaxAt(_))),
                "{bad:?} gave {:?}",
                parse(bad)
            );
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        let deep = format!("{}a == 1{}", "(".repeat(100_000), ")".repeat(100_000));
        assert_eq!(
            message(&deep),
            format!("parentheses nested too deeply at position {MAX_DEPTH}")
        );
        let fine = format!("{}a == 1{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert_eq!(ok(&fine), eq("a", Val::Num(1.0)));
    }
}
