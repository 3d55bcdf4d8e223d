"""Infor CloudSuite M3 simulator (sheet: ``systems/infor.md``): Mingle SSO, ION API gateway
and the MI programs the connector uses, strict where the real tenant is strict.

Module map: :mod:`.simulator` (routes, SSO, gateway, throttling), :mod:`.auth` (credentials
and tokens), :mod:`.gateway` (paths, options, envelope), :mod:`.mi` (transaction engine),
:mod:`.fields` (field catalog), :mod:`.data` (database), :mod:`.seed` (reference and sample
data), :mod:`.state`, and one ``trx_*`` module per program family. Knobs: :mod:`.knobs`.

Confirmed against published M3 metadata (GaryWayneSmith/M3H5, generated from M3's own
API repository) and deployed clients: APS450MI AddHead mandatory SUNO+IVDT (with SPYN,
SINO, CUAM, ACDT, DUDT, PUNO, CORI optional); AddLine mandatory INBN+RDTP and no AIT
fields; LstInvBySupInv mandatory SPYN+SUNO+SINO; LstLines INBN; GetHead INBN; APS455MI
ValidByBatchNo mandatory INBN only (DIVI optional); AddHeadRecode(DIVI, YEA4, VSER, VONO,
ACDT) and AddLineRecode(INBN, NLAM, VTCD, ACQT, AIT1..AIT7, VTXT) as called by an M3
extension; MMS200MI AddItmBasic mandatory STAT ITNO ITDS RESP UNMS ITTY MABU PRVG and
AddItmViaItmTyp mandatory ITTY+ITDS (ITNO optional, returned); CRS620MI AddSupplier's
mandatory list and LstByNumber with SUNO marked Required; CRS630MI GetAccountID(AITP,
AITM) and LstAccountID(AITP); PPS200MI AddLine mandatory PUNO ITNO ORQA, GetHead, GetLine,
LstLine, SearchHead(SQRY), UpdHead — no LstHead and no AddHead in that metadata (AddHead
is a knob); EXPORTMI/Select(QERY, SEPC, HDRS) answering REPL strings.
"""

from connector.sandbox.infor.simulator import InforSimulator

__all__ = ["InforSimulator"]
