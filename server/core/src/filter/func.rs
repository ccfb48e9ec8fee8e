//! The filter functions: `geoDistance(lonA, latA, lonB, latB)` (Haversine distance in
//! kilometres) and `strftime(format, [time-value, modifiers...])`.

use super::compile::Compiler;
use super::parse::{bad, Operand as AstOperand};
use super::plan::{union, AliasId, Operand, Term};
use super::sql::{Fallback, Sql};
use crate::Result;

#[derive(Clone, Debug)]
pub struct Strftime {
    pub format: String,
    pub time: Option<Operand>,
    pub modifiers: Vec<String>,
}

impl Strftime {
    pub fn remap(&mut self, map: &[AliasId]) {
        if let Some(t) = &mut self.time {
            t.remap(map);
        }
    }
}

/// SQLite's numeric view of a math-function argument (numeric text counts).
fn number(v: &Sql) -> Option<f64> {
    match v {
        Sql::Int(i) => Some(*i as f64),
        Sql::Real(r) => Some(*r),
        Sql::Text(t) => t.trim().parse::<f64>().ok().filter(|n| n.is_finite()),
        Sql::Null => None,
    }
}

/// `geoDistance(lonA, latA, lonB, latB)`; NULL when an argument is not numeric.
pub fn geo_distance(args: [&Sql; 4]) -> Sql<'static> {
    let nums: Option<Vec<f64>> = args.iter().map(|a| number(a)).collect();
    let Some([lon_a, lat_a, lon_b, lat_b]) = nums.as_deref().map(|n| [n[0], n[1], n[2], n[3]])
    else {
        return Sql::Null;
    };
    let (lat_a, lat_b) = (lat_a.to_radians(), lat_b.to_radians());
    let dlon = lon_b.to_radians() - lon_a.to_radians();
    let d = 6371.0 * (lat_a.cos() * lat_b.cos() * dlon.cos() + lat_a.sin() * lat_b.sin()).acos();
    if d.is_nan() {
        Sql::Null
    } else {
        Sql::Real(d)
    }
}

impl Compiler<'_> {
    pub(super) fn function(&mut self, name: &str, args: &[AstOperand]) -> Result<Operand> {
        match name {
            "geoDistance" => self.geo(args),
            "strftime" => self.strftime(args),
            _ => Err(bad(format!("unknown function \"{name}\""))),
        }
    }

    fn geo(&mut self, args: &[AstOperand]) -> Result<Operand> {
        if args.len() != 4 {
            return Err(bad(format!(
                "geoDistance expects 4 arguments, got {}",
                args.len()
            )));
        }
        let mut ops = Vec::with_capacity(4);
        for (i, a) in args.iter().enumerate() {
            if !matches!(
                a,
                AstOperand::Ident(_) | AstOperand::Number(_) | AstOperand::Param(_)
            ) {
                return Err(bad(format!(
                    "geoDistance argument {i} must be an identifier or a number"
                )));
            }
            ops.push(self.operand(a)?);
        }
        let free = union(&ops.iter().map(|o| &o.free).collect::<Vec<_>>());
        let [a, b, c, d]: [Operand; 4] = ops
            .try_into()
            .map_err(|_| bad("geoDistance expects 4 arguments"))?;
        Ok(Operand {
            term: Term::Geo(Box::new([a, b, c, d])),
            multi: false,
            fallback: Fallback::Disabled,
            guard: None,
            free,
        })
    }

    /// A text argument: a quoted text, or a placeholder holding a string.
    fn text_arg(&self, a: &AstOperand) -> Option<String> {
        match a {
            AstOperand::Text(s) => Some(s.clone()),
            AstOperand::Param(p) => self.params?.get(p)?.as_str().map(str::to_owned),
            _ => None,
        }
    }

    fn strftime(&mut self, args: &[AstOperand]) -> Result<Operand> {
        let Some(format) = args.first().and_then(|a| self.text_arg(a)) else {
            return Err(bad(
                "strftime expects a format string as its first argument",
            ));
        };
        let time = match args.get(1) {
            None => None,
            Some(
                a @ (AstOperand::Text(_)
                | AstOperand::Ident(_)
                | AstOperand::Number(_)
                | AstOperand::Param(_)),
            ) => Some(self.operand(a)?),
            Some(_) => return Err(bad("strftime expects a time-value as its second argument")),
        };
        let mut modifiers = Vec::new();
        for (i, a) in args.iter().enumerate().skip(2) {
            let Some(m) = self.text_arg(a) else {
                return Err(bad(format!("strftime modifier {i} must be a string")));
            };
            modifiers.push(m);
        }
        let (multi, free) = time
            .as_ref()
            .map_or((false, Vec::new()), |t| (t.multi, t.free.clone()));
        Ok(Operand {
            term: Term::Strftime(Box::new(Strftime {
                format,
                time,
                modifiers,
            })),
            multi,
            fallback: Fallback::Enforced,
            guard: None,
            free,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn haversine_distance() {
        let sofia_lon = Sql::Real(23.32);
        let sofia_lat = Sql::Real(42.69);
        let plovdiv_lon = Sql::Text("24.75".into());
        let plovdiv_lat = Sql::Int(42);
        let Sql::Real(d) = geo_distance([&sofia_lon, &sofia_lat, &plovdiv_lon, &plovdiv_lat])
        else {
            panic!("expected a distance");
        };
        assert!((d - 138.0).abs() < 3.0, "{d}");
        assert_eq!(
            geo_distance([&Sql::Null, &sofia_lat, &sofia_lon, &sofia_lat]),
            Sql::Null
        );
        let x = Sql::Text("x".into());
        assert_eq!(
            geo_distance([&x, &sofia_lat, &sofia_lon, &sofia_lat]),
            Sql::Null
        );
    }
}
