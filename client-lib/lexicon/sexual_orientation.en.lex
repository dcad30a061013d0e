# Sexual orientation (GDPR art. 9): self-description, same-sex couples
# described with or without the words gay or lesbian, partners whose
# gender says it, dating apps for gay men. English.

term lesbian/lesbians/bisexual/bisexuals/bisexuality/homosexual/homosexuals/homosexuality/heterosexual/pansexual/pansexuals/queer
term asexual | self
term =LGBT/=LGBTQ/=LGBTQIA/=LGBTI/=LGBTQI
term =LGBTQ+/=LGBT+/=LGBTQIA+
term gay/gays | self
term gay @person_noun
term gay @kin/couple/couples/bar/bars/club/clubs/pride/dating/marriage/wedding/friend/friends/best/son/daughter/brother/sister/uncle/aunt/cousin/community/rights)
term @iam (a/an) (@keen) =bi/=bi-curious/=bicurious
term =bi @person_noun
term same-sex/same sex couple/couples/marriage/partner/partners/parents/wedding/relationship/family/attraction
term two/2 dads/mums/moms/fathers/mothers/mommies/mummies/husbands/wives
term two-dad/two-mum/two-mom/two-mother/two-father family/household/home
term both men/guys
term both women/girls
term @partner and i/me are/=re both men/guys/women/girls/female/male
term we =re/are two men/guys/women/girls/husbands/wives
term we =re/are a gay/lesbian/same-sex couple
term two guys/men/women/girls getting married
term my husband and his husband
term my wife and her wife
term came/come/coming out as gay/lesbian/bi/bisexual/queer/pan/pansexual/asexual/ace/homosexual
term came/come/coming out to my/our/his/her parents/family/mum/mom/dad/friends/boss/colleagues
term his/her coming out
term my coming out
term coming out to my/our
term i =m/am into/attracted to guys/men/boys | if=@writer_man
term i =m/am into/attracted to women/girls/ladies | if=@writer_woman
term my husband/boyfriend/fiance/fiancé/partner | if=@writer_man
term my wife/girlfriend/fiancee/fiancée/partner | if=@writer_woman
term grindr/=scruff/hornet/planetromeo/romeo/jack'd/taimi | near=@app_cue
term grindr
term grindr/scruff/hornet xtra/unlimited/pro/premium/plus/subscription/account/charge
term gay dating app/apps/site/sites

@partner = my husband/boyfriend/fiance/wife/girlfriend/fiancee/partner
@partner = my partner/husband/wife
@app_cue = subscription/subscriptions/charge/charged/charges/billing/billed/account/premium/app/apps/payment/refund/my/for/renewal/xtra/pro
@app_cue = i/we

# Everyday words.
not gay colour/colours/color/colors/abandon/paris/paree/lussac/ribbon
not gay-lussac
not queer eye/street
not queer as folk
not came/come/coming out of/on/in/at/to/with/yesterday/today/broken/damaged/wrong/the/fine/great/well/badly/bad/late/early/clean/cheaper/cheap/expensive/too
not coming out soon/next/this/later/again
not bi-weekly/bi-monthly/bi-annual/bi-annually
not bi weekly/monthly/annual
not hornet nest/nests/sting/stings/trap/traps/spray/killer
not romeo and juliet
not romeo (&) juliet
not both men's/women's
not both men/women/guys/girls =s
not two dads/mums jokes
