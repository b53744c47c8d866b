//! Region codes ↔ `regionMask` bits (DESIGN.md "Regions"): bit 0 EU/EEA, 1 UK, 2 CH, 3 US, 4 CA, 5 BR, 6 JP,
//! 7 KR, 8 SG, 9 IN, 10 AU, 11 other. A model's mask limits where it may run; a job may narrow it; an
//! operator registers one region code (the bit index).

use std::{fmt, str::FromStr};

use crate::{Error, Result};

/// One region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Region {
    /// EU / EEA.
    Eu = 0,
    /// United Kingdom.
    Uk = 1,
    /// Switzerland.
    Ch = 2,
    /// United States.
    Us = 3,
    /// Canada.
    Ca = 4,
    /// Brazil.
    Br = 5,
    /// Japan.
    Jp = 6,
    /// South Korea.
    Kr = 7,
    /// Singapore.
    Sg = 8,
    /// India.
    In = 9,
    /// Australia.
    Au = 10,
    /// Anywhere else.
    Other = 11,
}

impl Region {
    /// Every region, by bit.
    pub const ALL: [Region; 12] = [
        Region::Eu,
        Region::Uk,
        Region::Ch,
        Region::Us,
        Region::Ca,
        Region::Br,
        Region::Jp,
        Region::Kr,
        Region::Sg,
        Region::In,
        Region::Au,
        Region::Other,
    ];

    /// The code as written on the command line and in configs (`EU`, `US`, …, `OTHER`).
    pub const fn code(self) -> &'static str {
        match self {
            Region::Eu => "EU",
            Region::Uk => "UK",
            Region::Ch => "CH",
            Region::Us => "US",
            Region::Ca => "CA",
            Region::Br => "BR",
            Region::Jp => "JP",
            Region::Kr => "KR",
            Region::Sg => "SG",
            Region::In => "IN",
            Region::Au => "AU",
            Region::Other => "OTHER",
        }
    }

    /// The bit index, which is also the operator's on-chain region code.
    pub const fn bit(self) -> u8 {
        self as u8
    }

    /// The region of an on-chain region code.
    pub fn from_bit(bit: u8) -> Option<Self> {
        Self::ALL.get(bit as usize).copied()
    }

    pub(crate) fn codes_list() -> String {
        Self::ALL.iter().map(|r| r.code()).collect::<Vec<_>>().join(", ")
    }
}

impl FromStr for Region {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let upper = s.trim().to_ascii_uppercase();
        let upper = if upper == "EEA" { "EU".to_string() } else { upper };
        Self::ALL.iter().copied().find(|r| r.code() == upper).ok_or_else(|| Error::UnknownRegion(s.trim().to_string()))
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A set of regions as the contracts store it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RegionMask(pub u64);

impl RegionMask {
    /// Every region.
    pub const ALL: RegionMask = RegionMask((1 << 12) - 1);

    /// The mask of these regions.
    pub fn of(regions: impl IntoIterator<Item = Region>) -> Self {
        Self(regions.into_iter().fold(0, |m, r| m | 1 << r.bit()))
    }

    /// A mask read from chain; refuses bits no region uses.
    pub fn from_bits(bits: u64) -> Result<Self> {
        if bits & !Self::ALL.0 != 0 { Err(Error::RegionMaskOutOfRange(bits)) } else { Ok(Self(bits)) }
    }

    /// Whether `region` is in the mask.
    pub fn contains(self, region: Region) -> bool {
        self.0 & (1 << region.bit()) != 0
    }

    /// The regions in the mask, by bit.
    pub fn regions(self) -> Vec<Region> {
        Region::ALL.iter().copied().filter(|r| self.contains(*r)).collect()
    }

    /// The mask as a `uint256`.
    pub fn to_u256(self) -> alloy::primitives::U256 {
        alloy::primitives::U256::from(self.0)
    }
}

/// `"EU,US"` (case-insensitive, spaces allowed) or `"ALL"`.
impl FromStr for RegionMask {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        if s.trim().eq_ignore_ascii_case("all") {
            return Ok(Self::ALL);
        }
        let regions =
            s.split(',').filter(|p| !p.trim().is_empty()).map(Region::from_str).collect::<Result<Vec<_>>>()?;
        if regions.is_empty() {
            return Err(Error::UnknownRegion(s.to_string()));
        }
        Ok(Self::of(regions))
    }
}

impl fmt::Display for RegionMask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let codes: Vec<_> = self.regions().iter().map(|r| r.code()).collect();
        f.write_str(&codes.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_masks_round_trip() {
        let mask: RegionMask = "eu, US".parse().unwrap();
        assert_eq!(mask.0, 0b1001); // the EIP-712 vector's regionMask 9
        assert_eq!(mask.to_string(), "EU,US");
        assert_eq!("all".parse::<RegionMask>().unwrap(), RegionMask::ALL);
        for r in Region::ALL {
            assert_eq!(r.code().parse::<Region>().unwrap(), r);
            assert_eq!(Region::from_bit(r.bit()), Some(r));
        }
        assert_eq!(Region::from_bit(12), None);
    }

    #[test]
    fn bad_codes_and_bits_are_named() {
        let err = "EU,XX".parse::<RegionMask>().unwrap_err();
        assert_eq!(err, Error::UnknownRegion("XX".into()));
        assert!(err.to_string().contains("EU, UK, CH"), "{err}");
        assert!("".parse::<RegionMask>().is_err());
        assert!(RegionMask::from_bits(1 << 12).is_err());
        assert_eq!(RegionMask::from_bits(0x1ff).unwrap().regions().len(), 9);
    }
}
