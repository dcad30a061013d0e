# Trade-union membership (GDPR art. 9): membership, dues, representative
# roles, in general words or named unions. News of a union's strike, with
# no membership stated, is not membership. English.

# Unions named; @union_bare names are unambiguous alone.
@union_bare = =RMT/=ASLEF/=TSSA/=CWU/=GMB/=NEU/=NASUWT/=UCU/=PCS/=USDAW/=NUJ/=FBU/=EIS/=NAHT/=BECTU/=RCN/=BMA/=UNISON
@union_bare = =SEIU/=UAW/=AFSCME/=UFCW/=IBEW/=USW/=ILWU
@union_bare = teamsters
@union_bare = afl-cio
@union_bare = sag-aftra
@union_bare = national education union
@union_bare = royal college of nursing
@union_bare = communication workers union
@union_bare = national union of journalists/students/teachers
@union_bare = fire brigades union
@union_bare = united auto workers
@union_bare = unite the union
@union = @union_bare
@union = unite/unison/equity/prospect

@union_role = member/members/membership/rep/reps/representative/steward/stewards/official/officials/officer/organiser/organizer/convenor/convener/delegate/activist/branch/subs/dues/fees/card/chair/secretary/committee/caseworker

term trade/labour/labor union/unions/unionist/unionists
term union member/members/membership/rep/reps/representative/steward/stewards/official/organiser/organizer/convenor/delegate/activist/dues/subs/fees/card/branch/committee/meeting/meetings/caseworker/official
term shop steward/stewards
term my/our union
term the union | self
term unionised/unionized/unionise/unionize | self
term @union @union_role
term member/members/rep/representative/steward/official/officer/organiser/organizer/secretary/chair/delegate/activist of/for/in/with (the) @union
term join/joined/joining/in (the) @union
term @iam (a/an) (@keen/branch) @union (member/rep/steward/official/activist/organiser/organizer/delegate)
term @union_bare | self
term branch secretary/chair/officer
term paid-up member
term invoice/invoices/bill ... to/for (the/my/our) union/@union
term the/my/our union pays/paid/reimburses/covers/funds
term collective bargaining | self

# Everyday words and news of strikes.
not european/soviet/african/credit/student/students/postal/civil/customs/monetary/rugby/football union
not union jack/square/station/street/road/pacific/bank/flag/city
not union =pay
not =unionpay
not union member/members of the/my/our/a gym/club/society/association/pool/library
not western union
not the union of
not union between/with/of the
not state of the union
not unite/unison/equity/prospect/community with/in/to/of
not equity release/loan/loans/fund/funds/investment
not in unison
not union/unions/@union strike/strikes/walkout/walkouts/ballot/dispute/picket/pickets/action/shutdown/blockade/announcement
not strike/strikes/walkout/walkouts/ballot/action/dispute called/organised/organized/announced by (the) @union
not strike/strikes/walkout/walkouts/ballot/action/dispute by/from (the) @union
not @union (has/have/is/are) called/calling/announced/announcing/balloting/striking/voted
not @union (has/have) called a strike
